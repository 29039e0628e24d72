#pragma once
// Noise schedules of discrete-time diffusion (Ho et al. 2020): variances
// β_0 … β_{N−1}, α_t = 1 − β_t and ᾱ_t = α_0·…·α_t, precomputed in double.
// Timestep t (0-based, as in diffusers) noises data as
// x_t = √ᾱ_t·x0 + √(1 − ᾱ_t)·ε.
//
//   linear          β_t = linspace(β_start, β_end, N)                   Ho et al. 2020 (1e-4 … 0.02)
//   scaled-linear   β_t = linspace(√β_start, √β_end, N)²                Stable Diffusion (0.00085 … 0.012)
//   cosine          β_t = min(1 − f(t+1)/f(t), max_beta),               Nichol & Dhariwal 2021
//                   f(t) = cos²((t/N + s)/(1 + s) · π/2), s = 0.008, max_beta = 0.999

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "vgt/core/error.hpp"
#include "vgt/diffusion/noise_level.hpp"

namespace vgt::diffusion {

enum class ScheduleKind { linear, scaled_linear, cosine };

inline std::string_view schedule_name(ScheduleKind kind) {
    switch (kind) {
        case ScheduleKind::linear: return "linear";
        case ScheduleKind::scaled_linear: return "scaled-linear";
        case ScheduleKind::cosine: return "cosine";
    }
    return "linear";
}

inline std::vector<ScheduleKind> all_schedule_kinds() {
    return {ScheduleKind::linear, ScheduleKind::scaled_linear, ScheduleKind::cosine};
}

/// The schedule called `name`; an unknown name is an error listing the valid ones.
inline ScheduleKind parse_schedule_kind(std::string_view name) {
    std::string valid;
    for (ScheduleKind k : all_schedule_kinds()) {
        if (schedule_name(k) == name) return k;
        valid += (valid.empty() ? "" : ", ") + std::string(schedule_name(k));
    }
    fail("noise schedule", "expected one of {}, found '{}'", valid, name);
}

namespace detail {

/// N points from `start` to `end` inclusive, as torch.linspace: the first
/// half stepped from `start`, the second from `end`, so both ends are exact.
inline std::vector<double> linspace(double start, double end, std::int64_t n) {
    std::vector<double> out(static_cast<std::size_t>(n));
    if (n == 1) {
        out[0] = start;
        return out;
    }
    const double step = (end - start) / static_cast<double>(n - 1);
    for (std::int64_t i = 0; i < n; ++i)
        out[static_cast<std::size_t>(i)] =
            i < n / 2 ? start + step * static_cast<double>(i) : end - step * static_cast<double>(n - 1 - i);
    return out;
}

}  // namespace detail

class NoiseSchedule {
public:
    /// A schedule from its variances; each β must lie in (0, 1).
    static NoiseSchedule from_betas(std::vector<double> betas) {
        const char* op = "NoiseSchedule";
        VGT_CHECK(!betas.empty(), op, "expected at least one timestep, found none");
        NoiseSchedule s;
        s.betas_ = std::move(betas);
        double product = 1.0;
        for (std::size_t t = 0; t < s.betas_.size(); ++t) {
            const double beta = s.betas_[t];
            VGT_CHECK(beta > 0.0 && beta < 1.0, op, "expected every beta in (0, 1), found {} at timestep {}", beta, t);
            s.alphas_.push_back(1.0 - beta);
            product *= 1.0 - beta;
            s.alphas_cumprod_.push_back(product);
        }
        return s;
    }

    static NoiseSchedule linear(std::int64_t timesteps = 1000, double beta_start = 1e-4, double beta_end = 0.02) {
        check_timesteps(timesteps, "linear");
        return from_betas(detail::linspace(beta_start, beta_end, timesteps));
    }

    static NoiseSchedule scaled_linear(std::int64_t timesteps = 1000, double beta_start = 0.00085,
                                       double beta_end = 0.012) {
        check_timesteps(timesteps, "scaled-linear");
        VGT_CHECK(beta_start > 0.0 && beta_end > 0.0, "NoiseSchedule",
                  "scaled-linear: expected positive beta_start and beta_end, found {} and {}", beta_start, beta_end);
        std::vector<double> betas = detail::linspace(std::sqrt(beta_start), std::sqrt(beta_end), timesteps);
        for (double& b : betas) b *= b;
        return from_betas(std::move(betas));
    }

    /// `offset` is s, which keeps β_0 from being tiny; `max_beta` caps the
    /// last betas, where f(t+1)/f(t) falls to 0 as t → N.
    static NoiseSchedule cosine(std::int64_t timesteps = 1000, double offset = 0.008, double max_beta = 0.999) {
        check_timesteps(timesteps, "cosine");
        VGT_CHECK(offset >= 0.0 && max_beta > 0.0 && max_beta < 1.0, "NoiseSchedule",
                  "cosine: expected offset >= 0 and max_beta in (0, 1), found {} and {}", offset, max_beta);
        const auto f = [&](std::int64_t t) {
            const double c = std::cos((static_cast<double>(t) / static_cast<double>(timesteps) + offset) /
                                      (1.0 + offset) * std::numbers::pi / 2.0);
            return c * c;
        };
        std::vector<double> betas;
        for (std::int64_t t = 0; t < timesteps; ++t) betas.push_back(std::min(1.0 - f(t + 1) / f(t), max_beta));
        return from_betas(std::move(betas));
    }

    /// This schedule with every signal-to-noise ratio divided by shift²
    /// (shift_alpha_cumprod, noise_level.hpp); shift 1 is this schedule.
    NoiseSchedule shifted(double shift) const {
        if (shift == 1.0) return *this;
        std::vector<double> betas;
        double previous = 1.0;
        for (std::size_t t = 0; t < alphas_cumprod_.size(); ++t) {
            const double now = shift_alpha_cumprod(alphas_cumprod_[t], shift);
            betas.push_back(1.0 - now / previous);
            previous = now;
        }
        return from_betas(std::move(betas));
    }

    /// The schedule of `kind` with its published defaults.
    static NoiseSchedule named(ScheduleKind kind, std::int64_t timesteps = 1000) {
        switch (kind) {
            case ScheduleKind::linear: return linear(timesteps);
            case ScheduleKind::scaled_linear: return scaled_linear(timesteps);
            case ScheduleKind::cosine: return cosine(timesteps);
        }
        return linear(timesteps);
    }
    static NoiseSchedule named(std::string_view name, std::int64_t timesteps = 1000) {
        return named(parse_schedule_kind(name), timesteps);
    }

    /// N, the number of training timesteps; valid timesteps are 0 … N − 1.
    std::int64_t timesteps() const { return static_cast<std::int64_t>(betas_.size()); }
    const std::vector<double>& betas() const { return betas_; }
    const std::vector<double>& alphas() const { return alphas_; }
    const std::vector<double>& alphas_cumprod() const { return alphas_cumprod_; }

    /// ᾱ_t; t outside [0, N − 1] is an error.
    double alpha_cumprod(std::int64_t t) const {
        check_timestep(t, "NoiseSchedule");
        return alphas_cumprod_[static_cast<std::size_t>(t)];
    }

    /// (√ᾱ_t, √(1 − ᾱ_t)).
    NoiseLevel level(std::int64_t t) const { return variance_preserving_level(alpha_cumprod(t)); }

    void check_timestep(std::int64_t t, std::string_view op) const {
        VGT_CHECK(t >= 0 && t < timesteps(), op, "expected a timestep in [0, {}], found {}", timesteps() - 1, t);
    }

private:
    static void check_timesteps(std::int64_t timesteps, std::string_view kind) {
        VGT_CHECK(timesteps >= 1, "NoiseSchedule", "{}: expected at least 1 timestep, found {}", kind, timesteps);
    }

    std::vector<double> betas_;
    std::vector<double> alphas_;
    std::vector<double> alphas_cumprod_;
};

}  // namespace vgt::diffusion
