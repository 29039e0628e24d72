#pragma once
// Guided sampling: classifier-free guidance (Ho & Salimans 2022) and Gen-1's
// temporal guidance (Esser et al. 2023, "Structure and content-guided video
// synthesis with diffusion models"), in one formula over three
// evaluations of the same network at (x_t, t):
//
//   μ̃ = μ_π(x_t, ∅) + w_t·(μ(x_t, ∅) − μ_π(x_t, ∅)) + w·(μ(x_t, c) − μ(x_t, ∅))
//
// μ(·, c) conditional, μ(·, ∅) with the empty condition, μ_π(·, ∅) with the
// empty condition and the temporal mixers off (each frame on its own, an
// image model). w_t = 1 is plain classifier-free guidance,
// μ(∅) + w·(μ(c) − μ(∅)); w = 1 and w_t = 1 is the conditional output alone.
// Guidance asks only for the evaluations whose weight in the sum is not 0:
//
//   conditional                     weight w
//   unconditional                   weight w_t − w
//   unconditional_without_mixers    weight 1 − w_t
//
// A model provides the evaluations through a GuidedModel, which receives
// all of a step's requests at once so that it can batch them:
// batch_by_mixers runs the conditional and unconditional ones as one
// forward pass over a batch of 2B, evaluate_separately one pass each.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "vgt/core/error.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/diffusion/denoiser.hpp"
#include "vgt/ops/elementwise.hpp"
#include "vgt/ops/join.hpp"

namespace vgt::diffusion {

/// One way of evaluating the network at (x_t, t).
enum class Evaluation {
    conditional,                   // μ(x_t, c): the condition, temporal mixers on
    unconditional,                 // μ(x_t, ∅): the empty condition, temporal mixers on
    unconditional_without_mixers,  // μ_π(x_t, ∅): the empty condition, temporal mixers off
};

inline std::string_view evaluation_name(Evaluation e) {
    switch (e) {
        case Evaluation::conditional: return "conditional";
        case Evaluation::unconditional: return "unconditional";
        case Evaluation::unconditional_without_mixers: return "unconditional_without_mixers";
    }
    return "conditional";
}

/// Evaluates a network at (x_t [B, ...], time [B]) in each requested way and
/// returns one output of x_t's shape per request, in the order asked.
using GuidedModel =
    std::function<std::vector<Tensor>(const Tensor& x_t, const Tensor& time, std::span<const Evaluation> evaluations)>;

struct Guidance {
    double scale = 1.0;           // w: classifier-free guidance weight (1 = conditional only)
    double temporal_scale = 1.0;  // w_t: Gen-1's temporal guidance weight (1 = off)

    /// The weight of each evaluation in μ̃ (see the table at the top).
    double weight(Evaluation e) const {
        switch (e) {
            case Evaluation::conditional: return scale;
            case Evaluation::unconditional: return temporal_scale - scale;
            case Evaluation::unconditional_without_mixers: return 1.0 - temporal_scale;
        }
        return 0.0;
    }

    /// The evaluations μ̃ needs (non-zero weight), in the order
    /// conditional, unconditional, unconditional_without_mixers.
    std::vector<Evaluation> evaluations() const {
        check();
        std::vector<Evaluation> out;
        for (Evaluation e :
             {Evaluation::conditional, Evaluation::unconditional, Evaluation::unconditional_without_mixers})
            if (weight(e) != 0.0) out.push_back(e);
        return out;
    }

    /// μ̃ from the outputs of evaluations(), in that order. A single
    /// evaluation of weight 1 (w = w_t = 1, or w = 0 and w_t = 1) is returned as it is.
    Tensor combine(std::span<const Tensor> outputs) const {
        const auto needed = evaluations();
        VGT_CHECK(outputs.size() == needed.size(), "Guidance", "expected {} outputs (one per evaluation), found {}",
                  needed.size(), outputs.size());
        if (needed.size() == 1 && weight(needed[0]) == 1.0) return outputs[0];
        Tensor out;
        for (std::size_t i = 0; i < needed.size(); ++i) {
            VGT_CHECK(outputs[i].shape() == outputs[0].shape(), "Guidance",
                      "expected outputs of one shape, found {} ({}) and {} ({})", outputs[0].shape(),
                      evaluation_name(needed[0]), outputs[i].shape(), evaluation_name(needed[i]));
            const Tensor term = mul(outputs[i], weight(needed[i]));
            out = out.defined() ? add(out, term) : term;
        }
        return out;
    }

    void check() const {
        VGT_CHECK(std::isfinite(scale) && std::isfinite(temporal_scale), "Guidance",
                  "expected finite guidance weights, found scale {} and temporal_scale {}", scale, temporal_scale);
    }
};

/// The Denoiser that samplers call: asks `model` for guidance's evaluations
/// at each step and combines them.
inline Denoiser guided_denoiser(GuidedModel model, Guidance guidance) {
    VGT_CHECK(static_cast<bool>(model), "guided_denoiser", "expected a model (a callable), found an empty function");
    const std::vector<Evaluation> needed = guidance.evaluations();
    return [model = std::move(model), guidance, needed](const Tensor& x_t, const Tensor& time) {
        const std::vector<Tensor> outputs = model(x_t, time, needed);
        VGT_CHECK(outputs.size() == needed.size(), "guided_denoiser",
                  "expected the model to return {} outputs (one per evaluation), found {}", needed.size(),
                  outputs.size());
        for (std::size_t i = 0; i < outputs.size(); ++i)
            VGT_CHECK(outputs[i].defined() && outputs[i].shape() == x_t.shape(), "guided_denoiser",
                      "expected the {} output of shape {}, found {}", evaluation_name(needed[i]), x_t.shape(),
                      outputs[i].str());
        return guidance.combine(outputs);
    };
}

/// A GuidedModel that calls `evaluate` once per requested evaluation.
inline GuidedModel evaluate_separately(std::function<Tensor(const Tensor& x_t, const Tensor& time, Evaluation)> evaluate) {
    return [evaluate = std::move(evaluate)](const Tensor& x_t, const Tensor& time, std::span<const Evaluation> which) {
        std::vector<Tensor> out;
        for (Evaluation e : which) out.push_back(evaluate(x_t, time, e));
        return out;
    };
}

/// forward(x [k·B, ...], time [k·B], blocks [k], temporal_mixers) → [k·B, ...]:
/// one pass over k copies of the batch, block i (rows i·B … (i+1)·B − 1)
/// evaluated as blocks[i]: with the condition where blocks[i] is
/// conditional, the empty condition otherwise. All blocks of a call share
/// `temporal_mixers` (false exactly for unconditional_without_mixers).
using BatchedForward =
    std::function<Tensor(const Tensor& x, const Tensor& time, std::span<const Evaluation> blocks, bool temporal_mixers)>;

/// A GuidedModel that runs the evaluations with temporal mixers on
/// (conditional, unconditional) as one call of `forward` on the batch
/// repeated, and the one without mixers as another call.
inline GuidedModel batch_by_mixers(BatchedForward forward) {
    VGT_CHECK(static_cast<bool>(forward), "batch_by_mixers", "expected a forward function, found an empty one");
    return [forward = std::move(forward)](const Tensor& x_t, const Tensor& time, std::span<const Evaluation> which) {
        std::vector<Tensor> out(which.size());
        for (const bool mixers : {true, false}) {
            std::vector<std::size_t> slots;
            std::vector<Evaluation> blocks;
            for (std::size_t i = 0; i < which.size(); ++i) {
                if ((which[i] != Evaluation::unconditional_without_mixers) != mixers) continue;
                slots.push_back(i);
                blocks.push_back(which[i]);
            }
            if (slots.empty()) continue;
            const auto k = static_cast<std::int64_t>(slots.size());
            const Tensor x = k == 1 ? x_t : concat(std::vector<Tensor>(slots.size(), x_t), 0);
            const Tensor t = k == 1 ? time : concat(std::vector<Tensor>(slots.size(), time), 0);
            const Tensor y = forward(x, t, blocks, mixers);
            VGT_CHECK(y.defined() && y.shape() == x.shape(), "batch_by_mixers",
                      "expected the forward pass to return shape {} ({} blocks of {}), found {}", x.shape(), k,
                      x_t.shape(), y.str());
            const std::vector<Tensor> parts = k == 1 ? std::vector<Tensor>{y} : chunk(y, k, 0);
            for (std::size_t i = 0; i < slots.size(); ++i) out[slots[i]] = parts[i];
        }
        return out;
    };
}

}  // namespace vgt::diffusion
