#pragma once
// The points a sampler visits: from the noisiest level down to clean data.
// Each point holds the time the model is told and its noise level (α, σ);
// the last point is always clean (σ = 0), where the model is not called,
// so S sampling steps make S + 1 points and S model evaluations.
//
// timestep_grid: for a DDPM-style schedule of N timesteps, S steps on the
// "trailing" spacing t_i = round(N − i·N/S) − 1 (i = 0 … S−1, rounding half
// to even as NumPy), which always starts at t = N − 1 (Lin et al. 2024,
// "Common diffusion noise schedules and sample steps are flawed"; diffusers'
// timestep_spacing="trailing"), then the clean point (time −1, ᾱ = 1).
// flow_grid: rectified-flow times t_i = 1 − i/S (optionally shifted toward
// noise), then the clean point t = 0.

#include <cmath>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "vgt/core/error.hpp"
#include "vgt/diffusion/noise_level.hpp"
#include "vgt/diffusion/schedule.hpp"

namespace vgt::diffusion {

struct GridPoint {
    double time = 0.0;  // what the model is told: a timestep, or a flow time
    NoiseLevel level;
};

using SamplingGrid = std::vector<GridPoint>;

/// The time of a discrete schedule's clean end point (the model never sees it).
inline constexpr double kCleanTimestep = -1.0;

/// S timesteps of a schedule with N training timesteps, trailing spacing, descending.
inline std::vector<std::int64_t> trailing_timesteps(std::int64_t train_timesteps, int steps) {
    const char* op = "timestep_grid";
    VGT_CHECK(steps >= 1, op, "expected at least 1 sampling step, found {}", steps);
    VGT_CHECK(steps <= train_timesteps, op, "expected at most {} sampling steps (the schedule's timesteps), found {}",
              train_timesteps, steps);
    std::vector<std::int64_t> out;
    const std::int64_t n = train_timesteps;
    for (std::int64_t i = 0; i < steps; ++i) {
        // (N·S − i·N)/S is exact in double for any realistic N and S, so ties round as NumPy's do.
        const double value = static_cast<double>(n * steps - i * n) / static_cast<double>(steps);
        out.push_back(static_cast<std::int64_t>(std::nearbyint(value)) - 1);
    }
    return out;
}

/// The grid of explicit timesteps (strictly decreasing, each in [0, N − 1]), then clean.
inline SamplingGrid timestep_grid(const NoiseSchedule& schedule, std::span<const std::int64_t> timesteps) {
    const char* op = "timestep_grid";
    VGT_CHECK(!timesteps.empty(), op, "expected at least 1 timestep, found none");
    SamplingGrid grid;
    for (std::size_t i = 0; i < timesteps.size(); ++i) {
        const std::int64_t t = timesteps[i];
        VGT_CHECK(t >= 0 && t < schedule.timesteps(), op, "expected timesteps in [0, {}], found {} at position {}",
                  schedule.timesteps() - 1, t, i);
        VGT_CHECK(i == 0 || t < timesteps[i - 1], op,
                  "expected strictly decreasing timesteps, found {} after {} at position {}", t, timesteps[i - 1], i);
        grid.push_back({static_cast<double>(t), schedule.level(t)});
    }
    grid.push_back({kCleanTimestep, NoiseLevel{1.0, 0.0}});
    return grid;
}

/// S steps of the schedule, trailing spacing.
inline SamplingGrid timestep_grid(const NoiseSchedule& schedule, int steps) {
    const auto timesteps = trailing_timesteps(schedule.timesteps(), steps);
    return timestep_grid(schedule, std::span<const std::int64_t>(timesteps));
}

/// The grid of explicit flow times (strictly decreasing, each in (0, 1]), then t = 0.
inline SamplingGrid flow_grid(std::span<const double> times) {
    const char* op = "flow_grid";
    VGT_CHECK(!times.empty(), op, "expected at least 1 flow time, found none");
    SamplingGrid grid;
    for (std::size_t i = 0; i < times.size(); ++i) {
        const double t = times[i];
        VGT_CHECK(t > 0.0 && t <= 1.0, op, "expected flow times in (0, 1], found {} at position {}", t, i);
        VGT_CHECK(i == 0 || t < times[i - 1], op,
                  "expected strictly decreasing flow times, found {} after {} at position {}", t, times[i - 1], i);
        grid.push_back({t, flow_level(t)});
    }
    grid.push_back({0.0, flow_level(0.0)});
    return grid;
}

/// S uniform steps of flow time from 1 to 0, each time shifted by `shift`
/// (shift_flow_time, noise_level.hpp), as the model was trained.
inline SamplingGrid flow_grid(int steps, double shift = 1.0) {
    VGT_CHECK(steps >= 1, "flow_grid", "expected at least 1 sampling step, found {}", steps);
    std::vector<double> times;
    for (int i = 0; i < steps; ++i)
        times.push_back(shift_flow_time(1.0 - static_cast<double>(i) / static_cast<double>(steps), shift));
    return flow_grid(std::span<const double>(times));
}

/// Checks what every sampler relies on: at least one step; finite levels
/// with α ≥ 0, σ > 0 before the end and σ = 0, α > 0 at the end; noise
/// strictly decreasing (α/σ increasing) from point to point.
inline void check_grid(const SamplingGrid& grid, std::string_view op) {
    VGT_CHECK(grid.size() >= 2, op, "expected a grid of at least 2 points (1 step), found {}", grid.size());
    for (std::size_t i = 0; i < grid.size(); ++i) {
        const NoiseLevel& l = grid[i].level;
        const bool last = i + 1 == grid.size();
        VGT_CHECK(std::isfinite(l.alpha) && std::isfinite(l.sigma) && std::isfinite(grid[i].time), op,
                  "expected finite grid points, found time {}, alpha {}, sigma {} at point {}", grid[i].time, l.alpha,
                  l.sigma, i);
        VGT_CHECK(last ? (l.sigma == 0.0 && l.alpha > 0.0) : (l.sigma > 0.0 && l.alpha >= 0.0), op,
                  "expected {} at point {}, found alpha {}, sigma {}",
                  last ? "a clean last point (sigma = 0, alpha > 0)" : "sigma > 0 and alpha >= 0", i, l.alpha, l.sigma);
        if (i > 0) {
            const NoiseLevel& p = grid[i - 1].level;
            VGT_CHECK(p.alpha * l.sigma < l.alpha * p.sigma, op,
                      "expected noise to decrease from point to point, found (alpha {}, sigma {}) after (alpha {}, sigma {}) at point {}",
                      l.alpha, l.sigma, p.alpha, p.sigma, i);
        }
    }
}

}  // namespace vgt::diffusion
