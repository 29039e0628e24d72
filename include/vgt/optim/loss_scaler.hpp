#pragma once
// Dynamic loss scaling for training in bfloat16/float16 (Micikevicius et
// al., "Mixed Precision Training", ICLR 2018), with the rules of PyTorch's
// torch.cuda.amp.GradScaler:
//
//   backward on loss · S               (small gradients stay representable)
//   g ← g / S                          (unscale_gradients)
//   a non-finite g: skip the step, S ← S · backoff_factor, count ← 0
//   else: step, count ← count + 1; when count reaches growth_interval,
//         S ← S · growth_factor (if that is finite) and count ← 0
//
// The logic is independent of the device: it runs on CPU tensors now and
// will run unchanged when the GPU path trains in half precision. Disabled
// (the default, for float32 training), the scale is 1, unscale_gradients
// does nothing and every step is taken.

#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "vgt/core/error.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/nn/parameters.hpp"
#include "vgt/ops/elementwise.hpp"
#include "vgt/optim/gradients.hpp"
#include "vgt/optim/named_state.hpp"

namespace vgt::optim {

/// GradScaler's defaults.
struct LossScaleOptions {
    bool enabled = false;
    double initial_scale = 65536.0;  // 2¹⁶
    double growth_factor = 2.0;
    double backoff_factor = 0.5;
    std::int64_t growth_interval = 2000;  // finite steps in a row before the scale grows

    /// Throws vgt::Error naming the first option out of its range.
    void validate() const {
        constexpr const char* op = "LossScaleOptions";
        VGT_CHECK(std::isfinite(initial_scale) && initial_scale > 0, op, "expected initial_scale > 0, found {}",
                  initial_scale);
        VGT_CHECK(std::isfinite(growth_factor) && growth_factor > 1, op, "expected growth_factor > 1, found {}",
                  growth_factor);
        VGT_CHECK(backoff_factor > 0 && backoff_factor < 1, op, "expected backoff_factor in (0, 1), found {}",
                  backoff_factor);
        VGT_CHECK(growth_interval >= 1, op, "expected growth_interval >= 1, found {}", growth_interval);
    }
};

template <class Visitor>
void visit_fields(Visitor& v, LossScaleOptions& o) {
    v("enabled", o.enabled);
    v("initial_scale", o.initial_scale);
    v("growth_factor", o.growth_factor);
    v("backoff_factor", o.backoff_factor);
    v("growth_interval", o.growth_interval);
}

class DynamicLossScaler {
public:
    explicit DynamicLossScaler(LossScaleOptions options = {}) : options_(options), scale_(options.initial_scale) {
        options_.validate();
    }

    bool enabled() const { return options_.enabled; }
    /// S, the factor the loss is multiplied by (1 when disabled).
    double scale() const { return enabled() ? scale_ : 1.0; }
    /// Finite steps in a row since the scale last changed.
    std::int64_t growth_tracker() const { return growth_tracker_; }
    const LossScaleOptions& options() const { return options_; }

    /// loss · S, to run backward on (the loss itself when disabled).
    Tensor scale_loss(const Tensor& loss) const { return enabled() ? mul(loss, scale_) : loss; }

    /// Divides every gradient of `block` by S (multiplies by 1/S rounded to
    /// the gradient's type; exact for the powers of two S takes from the
    /// defaults) and returns true, when every gradient is finite; otherwise
    /// returns false and leaves the gradients alone, for the step to be skipped.
    template <nn::HasParameters Block>
    bool unscale_gradients(Block& block) const {
        if (!enabled()) return true;
        bool finite = true;
        for_each_gradient(block, "unscale_gradients",
                          [&](const std::string&, const Tensor& g) { finite = finite && detail::all_finite(g); });
        if (finite) scale_gradients(block, 1.0 / scale_);
        return finite;
    }

    /// Adjusts S after a step whose gradients were (not) finite.
    void update(bool gradients_finite) {
        if (!enabled()) return;
        if (!gradients_finite) {
            scale_ *= options_.backoff_factor;
            growth_tracker_ = 0;
            return;
        }
        if (++growth_tracker_ == options_.growth_interval) {
            const double grown = scale_ * options_.growth_factor;
            if (std::isfinite(grown)) scale_ = grown;
            growth_tracker_ = 0;
        }
    }

    /// The whole protocol after backward on scale_loss(loss): unscales the
    /// gradients, calls optimizer_step() (clipping, AdamW, EMA, …) only if
    /// they are finite, updates S, and returns whether the step was taken.
    template <nn::HasParameters Block, class OptimizerStep>
    bool step(Block& block, OptimizerStep&& optimizer_step) {
        const bool finite = unscale_gradients(block);
        if (finite) std::forward<OptimizerStep>(optimizer_step)();
        update(finite);
        return finite;
    }

    /// "<prefix>.scale" (float64, rank 0) and "<prefix>.growth_tracker"
    /// (int64, rank 0).
    NamedTensors state(const std::string& prefix = "loss_scaler") const {
        return {{prefix + ".scale", Tensor::scalar(scale_, DType::Float64)},
                {prefix + ".growth_tracker", detail::count_tensor(growth_tracker_)}};
    }

    /// Loads what state(prefix) saved; checked as AdamW::load_state.
    void load_state(const NamedTensors& tensors, const std::string& prefix = "loss_scaler") {
        constexpr const char* op = "DynamicLossScaler::load_state";
        Tensor scale, tracker;
        load_state_tensors(op, tensors, prefix,
                           {{prefix + ".scale", Shape{}, DType::Float64, &scale},
                            {prefix + ".growth_tracker", Shape{}, DType::Int64, &tracker}});
        const double s = scale.item();
        const std::int64_t t = detail::count_value(tracker);
        VGT_CHECK(std::isfinite(s) && s > 0, op, "'{}.scale': expected a scale > 0, found {}", prefix, s);
        VGT_CHECK(t >= 0 && t < options_.growth_interval, op,
                  "'{}.growth_tracker': expected a count in [0, growth_interval = {}), found {}", prefix,
                  options_.growth_interval, t);
        scale_ = s;
        growth_tracker_ = t;
    }

private:
    LossScaleOptions options_;
    double scale_;
    std::int64_t growth_tracker_ = 0;
};

}  // namespace vgt::optim
