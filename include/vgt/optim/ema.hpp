#pragma once
// Exponential moving average of the weights, for sampling: diffusion
// models sample from the averaged weights, which are smoother than the last
// iterate. After the n-th update (n = 1, 2, …) of a weight θ with average θ̄:
//
//   d_n = min(decay, (1 + n) / (10 + n))   with warmup
//       = decay                            without
//   θ̄  ← θ̄ − (1 − d_n) · (θ̄ − θ)
//
// The warm-up is that of TensorFlow's tf.train.ExponentialMovingAverage
// given num_updates, counted from 1 as in latent-diffusion's LitEma: early
// averages forget their random start quickly (d_1 = 2/11) and the decay
// reaches 0.9999 only after about 90 000 updates. θ̄ starts as a copy of θ.
//
// The averages are kept by parameter name and travel as named tensors:
// "<prefix>.<parameter>" and the count "<prefix>.num_updates".

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "vgt/autograd/node.hpp"
#include "vgt/core/dispatch.hpp"
#include "vgt/core/error.hpp"
#include "vgt/core/macros.hpp"
#include "vgt/core/parallel.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/nn/parameters.hpp"
#include "vgt/ops/view.hpp"
#include "vgt/optim/named_state.hpp"

namespace vgt::optim {

struct EmaOptions {
    double decay = 0.9999;
    bool warmup = true;  // d_n = min(decay, (1 + n) / (10 + n))

    /// Throws vgt::Error naming the first option out of its range.
    void validate() const {
        VGT_CHECK(decay >= 0 && decay <= 1, "EmaOptions", "expected decay in [0, 1], found {}", decay);
    }
};

template <class Visitor>
void visit_fields(Visitor& v, EmaOptions& o) {
    v("decay", o.decay);
    v("warmup", o.warmup);
}

namespace kernels {

/// θ̄ ← θ̄ − (1 − d)·(θ̄ − θ) for one element.
template <class T>
struct EmaUpdate {
    T* average;
    const T* weight;
    T one_minus_decay;

    VGT_HOST_DEVICE void operator()(std::int64_t i) const {
        average[i] = average[i] - one_minus_decay * (average[i] - weight[i]);
    }
};

}  // namespace kernels

class Ema {
public:
    /// Averages of the parameters of `block` that require a gradient,
    /// starting as copies of them.
    template <nn::HasParameters Block>
    explicit Ema(const Block& block, EmaOptions options = {}) : Ema(trainable_parameters(block), options) {}

    explicit Ema(const NamedTensors& parameters, EmaOptions options = {})
        : options_(options), names_("Ema", parameters) {
        options_.validate();
        for (const auto& [name, p] : parameters) {
            VGT_CHECK(name != kCountName, "Ema", "expected no parameter named '{}' (the name of the update count)",
                      kCountName);
            detail::check_writable("Ema", "parameter", name, p);
            weights_.emplace_back(name, detach(clone(p)));
        }
    }

    /// d_n of the next update.
    double next_decay() const {
        if (!options_.warmup) return options_.decay;
        const double n = static_cast<double>(updates_ + 1);
        return std::min(options_.decay, (1.0 + n) / (10.0 + n));
    }

    /// Updates made so far.
    std::int64_t updates() const { return updates_; }
    const EmaOptions& options() const { return options_; }

    /// One update towards the current weights of `block` (after an optimiser step).
    template <nn::HasParameters Block>
    void update(const Block& block) {
        update(nn::named_parameters(block));
    }
    void update(const NamedTensors& parameters) {
        constexpr const char* op = "Ema::update";
        const double decay = next_decay();
        NoGradGuard no_grad;
        names_.match(op, parameters, [&](std::size_t i, const Tensor& p) {
            const Tensor& average = weights_[i].second;
            check_like(op, i, p);
            dispatch_floating(p, op, [&]<class T>() {
                parallel_for(p.numel(),
                             kernels::EmaUpdate<T>{average.data<T>(), p.data<T>(), static_cast<T>(1.0 - decay)},
                             4096);
            });
        });
        ++updates_;
    }

    /// Overwrites the parameters of `block` with the averages (to sample or
    /// export; the training weights are lost: see swap_with).
    template <nn::HasParameters Block>
    void copy_to(Block& block) const {
        names_.match("Ema::copy_to", nn::named_parameters(block), [&](std::size_t i, const Tensor& p) {
            check_like("Ema::copy_to", i, p);
            std::memcpy(p.raw_data(), weights_[i].second.raw_data(), p.nbytes());
        });
    }

    /// Exchanges the averages with the parameters of `block`: once to sample
    /// with the averaged weights, once more to resume training.
    template <nn::HasParameters Block>
    void swap_with(Block& block) {
        names_.match("Ema::swap_with", nn::named_parameters(block), [&](std::size_t i, const Tensor& p) {
            check_like("Ema::swap_with", i, p);
            auto* a = static_cast<unsigned char*>(p.raw_data());
            auto* b = static_cast<unsigned char*>(weights_[i].second.raw_data());
            std::swap_ranges(a, a + p.nbytes(), b);
        });
    }

    /// The averaged weights under the parameters' own names: a checkpoint
    /// for sampling. The tensors are the live averages: save, don't modify.
    const NamedTensors& weights() const { return weights_; }

    /// "<prefix>.<parameter>" for each average and "<prefix>.num_updates"
    /// (int64, rank 0).
    NamedTensors state(const std::string& prefix = "ema") const {
        NamedTensors out;
        for (const auto& [name, w] : weights_) out.emplace_back(nn::join_name(prefix, name), w);
        out.emplace_back(nn::join_name(prefix, kCountName), detail::count_tensor(updates_));
        return out;
    }

    /// Loads what state(prefix) saved; checked as AdamW::load_state.
    void load_state(const NamedTensors& tensors, const std::string& prefix = "ema") {
        constexpr const char* op = "Ema::load_state";
        NamedTensors loaded = weights_;
        Tensor count;
        std::vector<ExpectedState> expected;
        for (auto& [name, w] : loaded) expected.push_back({nn::join_name(prefix, name), w.shape(), w.dtype(), &w});
        expected.push_back({nn::join_name(prefix, kCountName), Shape{}, DType::Int64, &count});
        load_state_tensors(op, tensors, prefix, expected);
        const std::int64_t updates = detail::count_value(count);
        VGT_CHECK(updates >= 0, op, "'{}': expected a count >= 0, found {}", nn::join_name(prefix, kCountName),
                  updates);
        weights_ = std::move(loaded);
        updates_ = updates;
    }

private:
    static constexpr const char* kCountName = "num_updates";

    void check_like(std::string_view op, std::size_t i, const Tensor& p) const {
        const Tensor& average = weights_[i].second;
        VGT_CHECK(p.shape() == average.shape() && p.dtype() == average.dtype(), op,
                  "parameter '{}': expected {} as when the average was made, found {}", names_[i], average.str(),
                  p.str());
        detail::check_writable(op, "parameter", names_[i], p);
    }

    EmaOptions options_;
    ParameterNames names_;
    NamedTensors weights_;  // one per name, in the same order
    std::int64_t updates_ = 0;
};

}  // namespace vgt::optim
