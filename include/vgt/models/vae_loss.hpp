#pragma once
// The VAE's training loss, returned term by term for logging:
//
//   total = reconstruction + β · kl + γ · temporal
//
// reconstruction  mean over every element of ρ(x̂ − x), ρ = |·| (L1) or (·)² (L2)
// kl              mean over every latent element of KL(q ‖ N(0, 1)), in closed form
//                 for a diagonal Gaussian: (μ² + σ² − 1 − log σ²) / 2
//                 (Kingma & Welling 2014, appendix B)
// temporal        mean over consecutive frame pairs and every element of
//                 ρ((x̂_{t+1} − x̂_t) − (x_{t+1} − x_t)) = ρ(e_{t+1} − e_t), e = x̂ − x
//
// Both main terms are means, so β weighs the KL of one latent element
// against the error of one pixel value. Rombach et al. sum both over their
// elements instead; their weight β_sum corresponds to
// β = β_sum · (latent elements / pixel values) = β_sum · c / (C · f²).
//
// The temporal term penalises flicker: a reconstruction error that stays the
// same from frame to frame costs nothing, one that changes between frames
// costs as much as the change. It compares frame differences in pixel space,
// where reconstruction and input live, rather than latent differences with
// frame differences, which have different channels and resolutions and no
// parameter-free comparison. It needs videos [B, T, C, H, W] with T >= 2.

#include <cmath>
#include <string_view>

#include <fmt/format.h>

#include "vgt/core/error.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/io/json_config.hpp"
#include "vgt/models/vae.hpp"
#include "vgt/models/vae_latent.hpp"
#include "vgt/ops/elementwise.hpp"
#include "vgt/ops/loss.hpp"
#include "vgt/ops/reduce.hpp"
#include "vgt/ops/view.hpp"

namespace vgt::models {

/// ρ of the reconstruction and temporal terms.
enum class ReconstructionLoss { l1, l2 };

inline std::string_view reconstruction_loss_name(ReconstructionLoss loss) {
    return loss == ReconstructionLoss::l1 ? "l1" : "l2";
}

inline ReconstructionLoss parse_reconstruction_loss(std::string_view name) {
    if (name == "l1") return ReconstructionLoss::l1;
    if (name == "l2") return ReconstructionLoss::l2;
    fail("VaeLossOptions", "expected a reconstruction loss 'l1' or 'l2', found '{}'", name);
}

struct VaeLossOptions {
    ReconstructionLoss reconstruction = ReconstructionLoss::l1;
    double kl_weight = 1e-4;       // β
    double temporal_weight = 0.0;  // γ; > 0 needs videos with T >= 2

    /// Throws vgt::Error naming the first bad option.
    void validate() const {
        constexpr const char* op = "VaeLossOptions";
        VGT_CHECK(std::isfinite(kl_weight) && kl_weight >= 0, op, "expected kl_weight >= 0, found {}", kl_weight);
        VGT_CHECK(std::isfinite(temporal_weight) && temporal_weight >= 0, op, "expected temporal_weight >= 0, found {}",
                  temporal_weight);
    }
};

template <class Visitor>
void visit_fields(Visitor& v, VaeLossOptions& o) {
    v("reconstruction", o.reconstruction);
    v("kl_weight", o.kl_weight);
    v("temporal_weight", o.temporal_weight);
}

}  // namespace vgt::models

namespace vgt::io {

template <>
struct JsonCodec<models::ReconstructionLoss>
    : JsonEnumCodec<models::ReconstructionLoss, models::reconstruction_loss_name, models::parse_reconstruction_loss> {};

}  // namespace vgt::io

namespace vgt::models {

/// The loss and its terms, rank-0 tensors; backward(total) trains.
struct VaeLoss {
    Tensor total;
    Tensor reconstruction;
    Tensor kl;
    Tensor temporal;  // 0 for frames [N, C, H, W] and one-frame videos
};

namespace detail {

/// mean(ρ(d)) over every element.
inline Tensor mean_penalty(const Tensor& d, ReconstructionLoss loss) {
    return loss == ReconstructionLoss::l1 ? mean(abs(d)) : mean(square(d));
}

}  // namespace detail

/// The terms for input x, its reconstruction x̂ (x's shape and dtype) and
/// the posterior q(z | x) that x̂ was decoded from.
inline VaeLoss vae_loss(const Tensor& input, const Tensor& reconstruction, const DiagonalGaussian& posterior,
                        const VaeLossOptions& options = {}) {
    constexpr const char* op = "vae_loss";
    options.validate();
    VGT_CHECK(input.defined() && reconstruction.defined() && input.shape() == reconstruction.shape() &&
                  input.dtype() == reconstruction.dtype(),
              op, "expected a reconstruction like the input, found {} for input {}", reconstruction.str(), input.str());
    VGT_CHECK(input.numel() > 0, op, "expected a non-empty input, found shape {}", input.shape());
    VGT_CHECK(posterior.mean.defined() && posterior.logvar.defined() &&
                  posterior.mean.shape() == posterior.logvar.shape() && posterior.mean.numel() > 0,
              op, "expected a posterior with mean and logvar of one non-empty shape, found {} and {}",
              posterior.mean.defined() ? posterior.mean.str() : "none",
              posterior.logvar.defined() ? posterior.logvar.str() : "none");
    const bool has_time = input.rank() == 5 && input.size(1) >= 2;
    VGT_CHECK(options.temporal_weight == 0 || has_time, op,
              "expected videos [B, T, C, H, W] with T >= 2 for temporal_weight {} (frame differences), found shape {}",
              options.temporal_weight, input.shape());

    VaeLoss loss;
    const Tensor error = sub(reconstruction, input);
    loss.reconstruction = options.reconstruction == ReconstructionLoss::l2
                              ? mse_loss(reconstruction, input)
                              : detail::mean_penalty(error, options.reconstruction);
    loss.kl = mean(posterior.kl_to_standard_normal());
    if (has_time) {
        const std::int64_t frames = input.size(1);
        loss.temporal = detail::mean_penalty(sub(slice(error, 1, 1, frames), slice(error, 1, 0, frames - 1)),
                                             options.reconstruction);
    } else {
        loss.temporal = Tensor::scalar(0.0, input.dtype());
    }
    loss.total =
        add(add(loss.reconstruction, mul(loss.kl, options.kl_weight)), mul(loss.temporal, options.temporal_weight));
    if (!loss.total.device().is_cpu()) return loss;  // reading it back would synchronise every step
    const double total = loss.total.item();
    VGT_CHECK(std::isfinite(total), op, "expected a finite loss, found {} (reconstruction {}, kl {}, temporal {})",
              total, loss.reconstruction.item(), loss.kl.item(), loss.temporal.item());
    return loss;
}

/// The terms for one pass of the VAE over input x.
inline VaeLoss vae_loss(const Tensor& input, const VaeOutput& output, const VaeLossOptions& options = {}) {
    return vae_loss(input, output.reconstruction, output.posterior, options);
}

}  // namespace vgt::models
