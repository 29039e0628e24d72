#pragma once
// Learning-rate schedule: linear warm-up, then cosine decay to a floor
// (SGDR's cosine annealing without restarts, Loshchilov & Hutter 2017, after
// the warm-up of Goyal et al. 2017). A pure function of the step index, so a
// resumed run needs only its step count to continue on the same curve.
//
// For the optimiser step with index s = 0, 1, 2, … (s steps taken before it),
// W = warmup_steps, T = total_steps and floor r = min_lr_ratio:
//
//   factor(s) = (s + 1) / W                               s < W
//             = r + (1 − r) · ½ · (1 + cos(π · (s − W) / (T − W)))   W ≤ s < T
//             = r                                         s ≥ T
//
// and the learning rate is base_lr · factor(s). The first step trains
// (factor 1/W, not 0); the factor is 1 at s = W − 1 and s = W. With r = 1 the
// rate is constant after the warm-up.

#include <cmath>
#include <cstdint>
#include <numbers>

#include "vgt/core/error.hpp"

namespace vgt::optim {

struct LRScheduleOptions {
    std::int64_t warmup_steps = 0;      // W: steps of linear warm-up
    std::int64_t total_steps = 100000;  // T: where the cosine reaches the floor
    double min_lr_ratio = 0.0;          // r: the floor, as a fraction of the peak

    /// Throws vgt::Error naming the first option out of its range.
    void validate() const {
        constexpr const char* op = "LRScheduleOptions";
        VGT_CHECK(warmup_steps >= 0, op, "expected warmup_steps >= 0, found {}", warmup_steps);
        VGT_CHECK(total_steps > warmup_steps, op, "expected total_steps > warmup_steps ({}), found {}", warmup_steps,
                  total_steps);
        VGT_CHECK(min_lr_ratio >= 0 && min_lr_ratio <= 1, op, "expected min_lr_ratio in [0, 1], found {}",
                  min_lr_ratio);
    }
};

template <class Visitor>
void visit_fields(Visitor& v, LRScheduleOptions& o) {
    v("warmup_steps", o.warmup_steps);
    v("total_steps", o.total_steps);
    v("min_lr_ratio", o.min_lr_ratio);
}

class WarmupCosineSchedule {
public:
    explicit WarmupCosineSchedule(LRScheduleOptions options = {}) : options_(options) { options_.validate(); }

    /// The multiplier of the peak learning rate for step index `step` (>= 0).
    double factor(std::int64_t step) const {
        VGT_CHECK(step >= 0, "WarmupCosineSchedule", "expected a step index >= 0, found {}", step);
        const auto [warmup, total, floor] = options_;
        if (step < warmup) return static_cast<double>(step + 1) / static_cast<double>(warmup);
        if (step >= total) return floor;
        const double progress = static_cast<double>(step - warmup) / static_cast<double>(total - warmup);
        return floor + (1.0 - floor) * 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
    }

    /// The learning rate of step index `step`: base_lr · factor(step).
    double lr(double base_lr, std::int64_t step) const { return base_lr * factor(step); }

    const LRScheduleOptions& options() const { return options_; }

private:
    LRScheduleOptions options_;
};

}  // namespace vgt::optim
