#pragma once
// A noise level of the forward process x_t = α·x0 + σ·ε: the pair (α, σ)
// that every objective and sampler reads. A DDPM-style schedule gives
// α = √ᾱ_t, σ = √(1 − ᾱ_t) (so α² + σ² = 1); rectified flow gives
// α = 1 − t, σ = t (so α + σ = 1). Written in (α, σ), the conversions and
// updates hold for both.

#include <cmath>
#include <limits>

#include "vgt/core/error.hpp"

namespace vgt::diffusion {

struct NoiseLevel {
    double alpha = 1.0;  // weight of the data x0
    double sigma = 0.0;  // weight of the noise ε

    /// λ = log(α/σ), half the log signal-to-noise ratio, the variable
    /// DPM-Solver++ steps in: −∞ at pure noise (α = 0), +∞ at clean data (σ = 0).
    double lambda() const {
        if (sigma == 0.0) return std::numeric_limits<double>::infinity();
        if (alpha == 0.0) return -std::numeric_limits<double>::infinity();
        return std::log(alpha) - std::log(sigma);
    }
};

/// The level of ᾱ (alphas_cumprod) in a variance-preserving process: (√ᾱ, √(1 − ᾱ)).
inline NoiseLevel variance_preserving_level(double alpha_cumprod) {
    VGT_CHECK(alpha_cumprod >= 0.0 && alpha_cumprod <= 1.0, "variance_preserving_level",
              "expected alphas_cumprod in [0, 1], found {}", alpha_cumprod);
    return {std::sqrt(alpha_cumprod), std::sqrt(1.0 - alpha_cumprod)};
}

/// The level of rectified-flow time t ∈ [0, 1]: x_t = (1 − t)·x0 + t·ε.
inline NoiseLevel flow_level(double t) {
    VGT_CHECK(t >= 0.0 && t <= 1.0, "flow_level", "expected a flow time in [0, 1], found {}", t);
    return {1.0 - t, t};
}

/// The shift of noise levels toward noise (Esser et al. 2024, "Scaling
/// rectified flow transformers"; Hoogeboom et al. 2023, "simple
/// diffusion"): every signal-to-noise ratio divided by shift². Data with
/// many pixels per object, such as a video, keeps its coarse layout
/// recognisable at noise levels where a small image is already destroyed;
/// the shift moves training and sampling to where that layout is decided.
/// On a flow time, (1 − t')/t' = (1 − t)/(shift·t):
/// t' = shift·t / (1 + (shift − 1)·t), which keeps 0 and 1 fixed.
inline double shift_flow_time(double t, double shift) {
    VGT_CHECK(t >= 0.0 && t <= 1.0 && std::isfinite(shift) && shift > 0.0, "shift_flow_time",
              "expected a flow time in [0, 1] and a finite shift > 0, found {} and {}", t, shift);
    return shift * t / (1.0 + (shift - 1.0) * t);
}

/// The same shift on ᾱ of a variance-preserving level: SNR = ᾱ/(1 − ᾱ)
/// becomes SNR/shift², so ᾱ' = ᾱ / (ᾱ + shift²·(1 − ᾱ)).
inline double shift_alpha_cumprod(double alpha_cumprod, double shift) {
    VGT_CHECK(alpha_cumprod >= 0.0 && alpha_cumprod <= 1.0 && std::isfinite(shift) && shift > 0.0,
              "shift_alpha_cumprod", "expected alpha_cumprod in [0, 1] and a finite shift > 0, found {} and {}",
              alpha_cumprod, shift);
    return alpha_cumprod / (alpha_cumprod + shift * shift * (1.0 - alpha_cumprod));
}

}  // namespace vgt::diffusion
