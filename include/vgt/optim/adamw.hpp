#pragma once
// AdamW: Adam with decoupled weight decay (Loshchilov & Hutter, "Decoupled
// Weight Decay Regularization", ICLR 2019), computed as torch.optim.AdamW
// does, step for step. For a parameter p with gradient g at its t-th step
// (t counts the steps on which p had a gradient), with learning rate lr:
//
//   p  ← p · (1 − lr·λ)
//   m  ← β₁·m + (1 − β₁)·g
//   v  ← β₂·v + (1 − β₂)·g²
//   v̂  ← max(v̂, v) with amsgrad, else v
//   p  ← p − (lr / (1 − β₁ᵗ)) · m / (√v̂ / √(1 − β₂ᵗ) + ε)
//
// State is kept per parameter name (step count, exp_avg = m, exp_avg_sq = v,
// max_exp_avg_sq = v̂ with amsgrad) and travels as named tensors
// "<prefix>.<parameter>.<state>" for checkpoints. A parameter without a
// gradient is skipped, its step count unchanged, as in PyTorch; state that
// starts at zero with step 0 is what PyTorch creates on a first step.

#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "vgt/autograd/node.hpp"
#include "vgt/core/dispatch.hpp"
#include "vgt/core/error.hpp"
#include "vgt/core/macros.hpp"
#include "vgt/core/parallel.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/cuda/tensor_ops.hpp"
#include "vgt/nn/parameters.hpp"
#include "vgt/optim/adamw_kernel.hpp"
#include "vgt/optim/named_state.hpp"

namespace vgt::optim {

/// torch.optim.AdamW's options and defaults. lr is the peak learning rate
/// that a schedule scales.
struct AdamWOptions {
    double lr = 1e-3;
    double beta1 = 0.9;
    double beta2 = 0.999;
    double eps = 1e-8;
    double weight_decay = 1e-2;
    bool amsgrad = false;

    /// Throws vgt::Error naming the first option out of its range.
    void validate() const {
        constexpr const char* op = "AdamWOptions";
        VGT_CHECK(std::isfinite(lr) && lr >= 0, op, "expected lr >= 0, found {}", lr);
        VGT_CHECK(beta1 >= 0 && beta1 < 1, op, "expected beta1 in [0, 1), found {}", beta1);
        VGT_CHECK(beta2 >= 0 && beta2 < 1, op, "expected beta2 in [0, 1), found {}", beta2);
        VGT_CHECK(std::isfinite(eps) && eps >= 0, op, "expected eps >= 0, found {}", eps);
        VGT_CHECK(std::isfinite(weight_decay) && weight_decay >= 0, op, "expected weight_decay >= 0, found {}",
                  weight_decay);
    }
};

template <class Visitor>
void visit_fields(Visitor& v, AdamWOptions& o) {
    v("lr", o.lr);
    v("beta1", o.beta1);
    v("beta2", o.beta2);
    v("eps", o.eps);
    v("weight_decay", o.weight_decay);
    v("amsgrad", o.amsgrad);
}


class AdamW {
public:
    /// An optimiser for the parameters of `block` that require a gradient,
    /// with zero state. Holds no reference to the block: step() visits it.
    template <nn::HasParameters Block>
    explicit AdamW(const Block& block, AdamWOptions options = {}) : AdamW(trainable_parameters(block), options) {}

    explicit AdamW(const NamedTensors& parameters, AdamWOptions options = {})
        : options_(options), names_("AdamW", parameters) {
        options_.validate();
        for (const auto& [name, p] : parameters) {
            VGT_CHECK(is_floating(p.dtype()), "AdamW", "parameter '{}': expected a floating-point tensor, found {}",
                      name, dtype_name(p.dtype()));
            ParameterState s;
            s.exp_avg = Tensor::zeros(p.shape(), p.dtype(), p.device());
            s.exp_avg_sq = Tensor::zeros(p.shape(), p.dtype(), p.device());
            if (options_.amsgrad) s.max_exp_avg_sq = Tensor::zeros(p.shape(), p.dtype(), p.device());
            state_.push_back(std::move(s));
        }
    }

    /// One step on every parameter of `block` that has a gradient, at
    /// learning rate `lr` (from a schedule; options().lr by default).
    template <nn::HasParameters Block>
    void step(Block& block, double lr) {
        step(nn::named_parameters(block), lr);
    }
    template <nn::HasParameters Block>
    void step(Block& block) {
        step(block, options_.lr);
    }

    /// One step on named parameter handles: the parameters, by name, that
    /// the optimiser was made for (others are skipped if frozen).
    void step(const NamedTensors& parameters, double lr) {
        VGT_CHECK(std::isfinite(lr) && lr >= 0, kOp, "expected a learning rate >= 0, found {}", lr);
        NoGradGuard no_grad;
        names_.match(kOp, parameters, [&](std::size_t i, const Tensor& p) {
            ParameterState& s = state_[i];
            const std::string& name = names_[i];
            VGT_CHECK(p.shape() == s.exp_avg.shape() && p.dtype() == s.exp_avg.dtype(), kOp,
                      "parameter '{}': expected {} {} as when the optimiser was made, found {}", name,
                      dtype_name(s.exp_avg.dtype()), s.exp_avg.shape(), p.str());
            const Tensor grad = detail::writable_grad(p);
            if (!grad.defined()) return;
            detail::check_writable(kOp, "parameter", name, p, /*runs_on_cuda=*/true);
            VGT_CHECK(grad.shape() == p.shape() && grad.dtype() == p.dtype(), kOp,
                      "parameter '{}': expected a gradient like the parameter ({}), found {}", name, p.str(),
                      grad.str());
            update(s, p, grad, lr);
        });
    }

    const AdamWOptions& options() const { return options_; }

    /// How many steps parameter `name` has taken (steps with a gradient).
    std::int64_t step_count(const std::string& name) const { return state_[names_.at("AdamW", name)].step; }

    /// The state as named tensors, "<prefix>.<parameter>.step" (int64, rank 0),
    /// ".exp_avg", ".exp_avg_sq" and, with amsgrad, ".max_exp_avg_sq" (the
    /// parameter's shape and dtype). The tensors are the live state: save
    /// them, don't modify them.
    NamedTensors state(const std::string& prefix = "optim") const {
        NamedTensors out;
        for (std::size_t i = 0; i < state_.size(); ++i) {
            const ParameterState& s = state_[i];
            const std::string base = nn::join_name(prefix, names_[i]);
            out.emplace_back(base + ".step", detail::count_tensor(s.step));
            out.emplace_back(base + ".exp_avg", s.exp_avg);
            out.emplace_back(base + ".exp_avg_sq", s.exp_avg_sq);
            if (options_.amsgrad) out.emplace_back(base + ".max_exp_avg_sq", s.max_exp_avg_sq);
        }
        return out;
    }

    /// Loads what state(prefix) saved (tensors under other prefixes are
    /// ignored). Every name must be there with its shape and dtype, and no
    /// other under the prefix; otherwise a vgt::Error names them and the
    /// state is unchanged. Options are not part of the state.
    void load_state(const NamedTensors& tensors, const std::string& prefix = "optim") {
        std::vector<ParameterState> loaded = state_;
        std::vector<Tensor> steps(state_.size());
        std::vector<ExpectedState> expected;
        for (std::size_t i = 0; i < loaded.size(); ++i) {
            ParameterState& s = loaded[i];
            const std::string base = nn::join_name(prefix, names_[i]);
            const Shape& shape = s.exp_avg.shape();
            const DType dtype = s.exp_avg.dtype();
            expected.push_back({base + ".step", Shape{}, DType::Int64, &steps[i]});
            expected.push_back({base + ".exp_avg", shape, dtype, &s.exp_avg});
            expected.push_back({base + ".exp_avg_sq", shape, dtype, &s.exp_avg_sq});
            if (options_.amsgrad) expected.push_back({base + ".max_exp_avg_sq", shape, dtype, &s.max_exp_avg_sq});
        }
        load_state_tensors("AdamW::load_state", tensors, prefix, expected);
        for (std::size_t i = 0; i < loaded.size(); ++i) {
            loaded[i].step = detail::count_value(steps[i]);
            VGT_CHECK(loaded[i].step >= 0, "AdamW::load_state", "'{}.step': expected a count >= 0, found {}",
                      nn::join_name(prefix, names_[i]), loaded[i].step);
        }
        state_ = std::move(loaded);
    }

private:
    static constexpr const char* kOp = "AdamW::step";

    struct ParameterState {
        std::int64_t step = 0;
        Tensor exp_avg, exp_avg_sq, max_exp_avg_sq;
    };

    void update(ParameterState& s, const Tensor& p, const Tensor& grad, double lr) {
        s.step += 1;
        const double t = static_cast<double>(s.step);
        const double bias_correction1 = 1 - std::pow(options_.beta1, t);
        const double bias_correction2 = 1 - std::pow(options_.beta2, t);
        if (!p.device().is_cpu()) {
            const cuda::AdamWStep step{1 - lr * options_.weight_decay, options_.beta1, 1 - options_.beta1,
                                       options_.beta2, 1 - options_.beta2, std::sqrt(bias_correction2),
                                       options_.eps, -(lr / bias_correction1)};
            cuda::adamw_step(p, grad, s.exp_avg, s.exp_avg_sq, s.max_exp_avg_sq, step, kOp);
            return;
        }
        dispatch_floating(p, kOp, [&]<class T>() {
            const kernels::AdamWUpdate<T> body{
                p.data<T>(),
                grad.data<T>(),
                s.exp_avg.data<T>(),
                s.exp_avg_sq.data<T>(),
                options_.amsgrad ? s.max_exp_avg_sq.data<T>() : nullptr,
                static_cast<T>(1 - lr * options_.weight_decay),
                static_cast<T>(options_.beta1),
                static_cast<T>(1 - options_.beta1),
                static_cast<T>(options_.beta2),
                static_cast<T>(1 - options_.beta2),
                static_cast<T>(std::sqrt(bias_correction2)),
                static_cast<T>(options_.eps),
                static_cast<T>(-(lr / bias_correction1)),
            };
            parallel_for(p.numel(), body, 4096);
        });
    }

    AdamWOptions options_;
    ParameterNames names_;
    std::vector<ParameterState> state_;  // one per name, in the same order
};

}  // namespace vgt::optim
