#pragma once
// The optimisation options in JSON (io/json_config.hpp): a training
// config's "optim" object.
//
//   {"adamw": {"lr": 2e-4, "weight_decay": 0.01},
//    "lr_schedule": {"warmup_steps": 500, "total_steps": 20000, "min_lr_ratio": 0.1},
//    "max_grad_norm": 1.0, "accumulation_steps": 2,
//    "ema": {"decay": 0.9999, "warmup": true},
//    "loss_scale": {"enabled": false}}
//
// Absent keys keep their defaults; "max_grad_norm": null turns clipping
// off and "ema": null the weight average.

#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "vgt/core/error.hpp"
#include "vgt/io/json_config.hpp"
#include "vgt/optim/adamw.hpp"
#include "vgt/optim/ema.hpp"
#include "vgt/optim/loss_scaler.hpp"
#include "vgt/optim/lr_schedule.hpp"

namespace vgt::optim {

namespace detail {

inline void validate_max_grad_norm(const std::optional<double>& max_grad_norm) {
    VGT_CHECK(!max_grad_norm || (std::isfinite(*max_grad_norm) && *max_grad_norm > 0), "OptimConfig",
              "expected max_grad_norm > 0 (or null for no clipping), found {}", max_grad_norm.value_or(0));
}

inline void validate_accumulation_steps(std::int64_t accumulation_steps) {
    VGT_CHECK(accumulation_steps >= 1, "OptimConfig", "expected accumulation_steps >= 1, found {}",
              accumulation_steps);
}

}  // namespace detail

struct OptimConfig {
    AdamWOptions adamw;
    LRScheduleOptions lr_schedule;
    std::optional<double> max_grad_norm = 1.0;  // none: no clipping
    std::int64_t accumulation_steps = 1;        // micro-batches per optimiser step
    std::optional<EmaOptions> ema = EmaOptions{};  // none: no weight average
    LossScaleOptions loss_scale;

    /// Throws vgt::Error naming the first bad option.
    void validate() const {
        adamw.validate();
        lr_schedule.validate();
        detail::validate_max_grad_norm(max_grad_norm);
        detail::validate_accumulation_steps(accumulation_steps);
        if (ema) ema->validate();
        loss_scale.validate();
    }
};

template <class Visitor>
void visit_fields(Visitor& v, OptimConfig& c) {
    v("adamw", c.adamw);
    v("lr_schedule", c.lr_schedule);
    v("max_grad_norm", c.max_grad_norm);
    v("accumulation_steps", c.accumulation_steps);
    v("ema", c.ema);
    v("loss_scale", c.loss_scale);
}

/// An OptimConfig from a JSON object (absent keys keep their defaults),
/// validated; a bad value's message names its key's path under `root`
/// ("optim.adamw").
inline OptimConfig optim_config_from_json(const nlohmann::json& j, std::string root = "") {
    const io::ConfigPath path(root);
    const OptimConfig config = io::options_from_json<OptimConfig>(j, std::move(root));
    io::detail::with_path(path.key("adamw"), [&] { config.adamw.validate(); });
    io::detail::with_path(path.key("lr_schedule"), [&] { config.lr_schedule.validate(); });
    io::detail::with_path(path.key("ema"), [&] {
        if (config.ema) config.ema->validate();
    });
    io::detail::with_path(path.key("loss_scale"), [&] { config.loss_scale.validate(); });
    io::detail::with_path(path.key("max_grad_norm"), [&] { detail::validate_max_grad_norm(config.max_grad_norm); });
    io::detail::with_path(path.key("accumulation_steps"),
                          [&] { detail::validate_accumulation_steps(config.accumulation_steps); });
    return config;
}

}  // namespace vgt::optim
