#pragma once
// What a denoising model regresses, and how its output turns back into
// predictions of the data x0 and the noise ε. With x_t = α·x0 + σ·ε:
//
//   objective  target            x0 from output o           ε from output o
//   epsilon    ε                 (x_t − σ·o) / α            o
//   x0         x0                o                          (x_t − α·o) / σ
//   v          α·ε − σ·x0        (α·x_t − σ·o) / (α² + σ²)  (σ·x_t + α·o) / (α² + σ²)
//   flow       ε − x0            (x_t − σ·o) / (α + σ)      (x_t + α·o) / (α + σ)
//
// v is Salimans & Ho 2022 (there α² + σ² = 1 and the divisions vanish);
// flow is rectified flow / flow matching (Liu et al. 2022, Lipman et al.
// 2022): with α = 1 − t, σ = t its target ε − x0 is the velocity dx_t/dt.
// The general forms above make every objective usable on either kind of
// noise level, and each pair of columns the exact inverse of the target.

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vgt/core/error.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/diffusion/noise_level.hpp"
#include "vgt/diffusion/per_sample.hpp"

namespace vgt::diffusion {

enum class Objective { epsilon, v, x0, flow };

inline std::string_view objective_name(Objective objective) {
    switch (objective) {
        case Objective::epsilon: return "epsilon";
        case Objective::v: return "v";
        case Objective::x0: return "x0";
        case Objective::flow: return "flow";
    }
    return "epsilon";
}

inline std::vector<Objective> all_objectives() {
    return {Objective::epsilon, Objective::v, Objective::x0, Objective::flow};
}

/// The objective called `name`; an unknown name is an error listing the valid ones.
inline Objective parse_objective(std::string_view name) {
    std::string valid;
    for (Objective o : all_objectives()) {
        if (objective_name(o) == name) return o;
        valid += (valid.empty() ? "" : ", ") + std::string(objective_name(o));
    }
    fail("objective", "expected one of {}, found '{}'", valid, name);
}

/// A model output read as predictions of the data and of the noise.
struct Prediction {
    Tensor x0;
    Tensor eps;
};

/// The noisy input and the regression target of one training example.
struct TrainingPair {
    Tensor x_t;
    Tensor target;
};

namespace detail {

struct LevelColumns {
    std::vector<double> alpha, sigma;
};

inline LevelColumns level_columns(std::span<const NoiseLevel> levels, const Tensor& x, std::string_view op) {
    check_per_sample(levels.size(), x, op);
    LevelColumns c;
    for (const NoiseLevel& l : levels) {
        c.alpha.push_back(l.alpha);
        c.sigma.push_back(l.sigma);
    }
    return c;
}

inline void check_same_shape(const Tensor& a, const Tensor& b, std::string_view what, std::string_view op) {
    VGT_CHECK(a.shape() == b.shape(), op, "expected {} of shape {}, found {}", what, a.shape(), b.shape());
}

/// 1/d for every divisor d; a zero divisor is an error saying what is
/// undefined there (`undefined`, e.g. "an epsilon output gives no x0 where alpha = 0").
inline std::vector<double> reciprocals(const std::vector<double>& divisors, std::string_view undefined,
                                       std::string_view op) {
    std::vector<double> out;
    for (std::size_t i = 0; i < divisors.size(); ++i) {
        VGT_CHECK(divisors[i] != 0.0, op, "{}; found such a noise level (batch element {})", undefined, i);
        out.push_back(1.0 / divisors[i]);
    }
    return out;
}

}  // namespace detail

/// x_t = α·x0 + σ·ε, with one level per batch element or one for all.
inline Tensor add_noise(const Tensor& x0, const Tensor& noise, std::span<const NoiseLevel> levels) {
    const char* op = "add_noise";
    detail::check_same_shape(x0, noise, "noise", op);
    const auto c = detail::level_columns(levels, x0, op);
    return detail::scaled_sum(x0, c.alpha, noise, c.sigma);
}
inline Tensor add_noise(const Tensor& x0, const Tensor& noise, NoiseLevel level) {
    return add_noise(x0, noise, std::span<const NoiseLevel>(&level, 1));
}

/// What a model trained for `objective` should output for this x0 and ε.
inline Tensor objective_target(Objective objective, const Tensor& x0, const Tensor& noise,
                               std::span<const NoiseLevel> levels) {
    const char* op = "objective_target";
    detail::check_same_shape(x0, noise, "noise", op);
    const auto c = detail::level_columns(levels, x0, op);
    switch (objective) {
        case Objective::epsilon: return noise;
        case Objective::x0: return x0;
        case Objective::v: {
            std::vector<double> minus_sigma;
            for (double s : c.sigma) minus_sigma.push_back(-s);
            return detail::scaled_sum(noise, c.alpha, x0, minus_sigma);
        }
        case Objective::flow: return sub(noise, x0);
    }
    return noise;
}
inline Tensor objective_target(Objective objective, const Tensor& x0, const Tensor& noise, NoiseLevel level) {
    return objective_target(objective, x0, noise, std::span<const NoiseLevel>(&level, 1));
}

/// The noisy input and the target together.
inline TrainingPair training_pair(Objective objective, const Tensor& x0, const Tensor& noise,
                                  std::span<const NoiseLevel> levels) {
    return {add_noise(x0, noise, levels), objective_target(objective, x0, noise, levels)};
}
inline TrainingPair training_pair(Objective objective, const Tensor& x0, const Tensor& noise, NoiseLevel level) {
    return training_pair(objective, x0, noise, std::span<const NoiseLevel>(&level, 1));
}

/// The x0 and ε that a model output for `objective` at x_t stands for
/// (the table at the top). A level where the needed divisor is 0 (an
/// epsilon output at α = 0, an x0 output's ε at σ = 0) is an error.
inline Prediction predict(Objective objective, const Tensor& output, const Tensor& x_t,
                          std::span<const NoiseLevel> levels) {
    const char* op = "predict";
    detail::check_same_shape(x_t, output, "a model output", op);
    const auto c = detail::level_columns(levels, x_t, op);
    const std::size_t n = c.alpha.size();
    std::vector<double> a(n), b(n);
    switch (objective) {
        case Objective::epsilon: {
            const auto inv_alpha = detail::reciprocals(c.alpha, "an epsilon output gives no x0 where alpha = 0", op);
            for (std::size_t i = 0; i < n; ++i) a[i] = inv_alpha[i], b[i] = -c.sigma[i] * inv_alpha[i];
            return {detail::scaled_sum(x_t, a, output, b), output};
        }
        case Objective::x0: {
            const auto inv_sigma = detail::reciprocals(c.sigma, "an x0 output gives no noise where sigma = 0", op);
            for (std::size_t i = 0; i < n; ++i) a[i] = inv_sigma[i], b[i] = -c.alpha[i] * inv_sigma[i];
            return {output, detail::scaled_sum(x_t, a, output, b)};
        }
        case Objective::v: {
            std::vector<double> norm(n);
            for (std::size_t i = 0; i < n; ++i) norm[i] = c.alpha[i] * c.alpha[i] + c.sigma[i] * c.sigma[i];
            const auto inv = detail::reciprocals(norm, "a v output gives no prediction where alpha^2 + sigma^2 = 0", op);
            std::vector<double> a2(n), b2(n);
            for (std::size_t i = 0; i < n; ++i) {
                a[i] = c.alpha[i] * inv[i], b[i] = -c.sigma[i] * inv[i];
                a2[i] = c.sigma[i] * inv[i], b2[i] = c.alpha[i] * inv[i];
            }
            return {detail::scaled_sum(x_t, a, output, b), detail::scaled_sum(x_t, a2, output, b2)};
        }
        case Objective::flow: {
            std::vector<double> sum(n);
            for (std::size_t i = 0; i < n; ++i) sum[i] = c.alpha[i] + c.sigma[i];
            const auto inv = detail::reciprocals(sum, "a flow output gives no prediction where alpha + sigma = 0", op);
            std::vector<double> a2(n), b2(n);
            for (std::size_t i = 0; i < n; ++i) {
                a[i] = inv[i], b[i] = -c.sigma[i] * inv[i];
                a2[i] = inv[i], b2[i] = c.alpha[i] * inv[i];
            }
            return {detail::scaled_sum(x_t, a, output, b), detail::scaled_sum(x_t, a2, output, b2)};
        }
    }
    return {};
}
inline Prediction predict(Objective objective, const Tensor& output, const Tensor& x_t, NoiseLevel level) {
    return predict(objective, output, x_t, std::span<const NoiseLevel>(&level, 1));
}

/// The output a model for `objective` would give for these predictions:
/// objective_target of (x0, ε) at the level. With predict, the two directions
/// of one change of variables.
inline Tensor model_output(Objective objective, const Prediction& prediction, std::span<const NoiseLevel> levels) {
    return objective_target(objective, prediction.x0, prediction.eps, levels);
}
inline Tensor model_output(Objective objective, const Prediction& prediction, NoiseLevel level) {
    return model_output(objective, prediction, std::span<const NoiseLevel>(&level, 1));
}

}  // namespace vgt::diffusion
