#pragma once
// Vae: the frame-wise convolutional variational autoencoder of latent video
// diffusion (MagicVideo, after Rombach et al.'s latent-diffusion
// autoencoder). Every frame is encoded on its own into a KL-regularised
// latent with f = 2^L times fewer rows and columns and a few channels, and
// decoded back; videos [B, T, C, H, W] have T folded into the batch, frames
// [N, C, H, W] go through as they are.
//
//   Vae vae(options, gen);
//   DiagonalGaussian q = vae.encode(video);            // mean, logvar [B, T, c, H/f, W/f]
//   Tensor z = q.sample(gen);                          // mean + exp(logvar/2) ⊙ ε
//   Tensor video_hat = vae.decode(z);                  // [B, T, C, H, W]
//
// Diffusion runs on scaled latents z · s, s = options().latent_scale, so
// that they have about unit variance as the noise schedules assume:
// encode_scaled / decode_scaled apply s, and estimate_latent_scale measures
// s = 1 / std(z) on a sample of data (the rule of Rombach et al., whose
// Stable Diffusion VAE has s = 0.18215). Store it in the options, which
// travel with a checkpoint.
//
// Parameters: encoder.* (models/vae_encoder.hpp) and decoder.*
// (models/vae_decoder.hpp), laid out as PyTorch's.

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vgt/autograd/node.hpp"
#include "vgt/core/dispatch.hpp"
#include "vgt/core/error.hpp"
#include "vgt/core/random.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/models/vae_decoder.hpp"
#include "vgt/models/vae_encoder.hpp"
#include "vgt/models/vae_latent.hpp"
#include "vgt/models/vae_options.hpp"
#include "vgt/nn/parameters.hpp"
#include "vgt/ops/elementwise.hpp"
#include "vgt/ops/view.hpp"
#include "vgt/temporal/layout.hpp"

namespace vgt::models {

namespace detail {

/// The index of the first NaN or infinity of a CPU tensor (row-major), or −1.
/// Tensors on a device are not read (they would need a copy per call).
inline std::int64_t first_non_finite(const Tensor& x) {
    if (!x.device().is_cpu()) return -1;
    const Tensor c = vgt::detail::contiguous_data(x);
    return dispatch_floating(c, "first_non_finite", [&]<class T>() -> std::int64_t {
        const T* p = c.data<T>();
        for (std::int64_t i = 0; i < c.numel(); ++i)
            if (!std::isfinite(p[i])) return i;
        return -1;
    });
}

}  // namespace detail

/// What one pass through the VAE produced.
struct VaeOutput {
    DiagonalGaussian posterior;  // q(z | x)
    Tensor latent;               // z, a reparameterised sample of the posterior (unscaled)
    Tensor reconstruction;       // decode(z), x's shape
};

class Vae {
public:
    Vae(VaeOptions options, Generator& gen, DType dtype = DType::Float32)
        : options_(std::move(options)), dtype_(dtype) {
        options_.validate();
        VGT_CHECK(is_floating(dtype), "Vae", "expected a floating-point dtype, found {}", dtype_name(dtype));
        encoder_ = VaeEncoder(options_, gen, dtype);
        decoder_ = VaeDecoder(options_, gen, dtype);
    }

    const VaeOptions& options() const { return options_; }
    DType dtype() const { return dtype_; }
    std::int64_t downsampling_factor() const { return options_.downsampling_factor(); }
    double latent_scale() const { return options_.latent_scale; }
    void set_latent_scale(double scale) {
        VGT_CHECK(std::isfinite(scale) && scale > 0, "Vae::set_latent_scale",
                  "expected a positive finite scale, found {}", scale);
        options_.latent_scale = scale;
    }

    /// The latent shape of frames [N, C, H, W] or a video [B, T, C, H, W]
    /// (checked as encode checks it): C → c, H → H/f, W → W/f.
    Shape latent_shape(const Shape& input) const {
        check_shape(input, options_.in_channels, true, "Vae::latent_shape", "frames");
        Shape out = input;
        const int r = input.rank();
        out[r - 3] = options_.latent_channels;
        out[r - 2] /= downsampling_factor();
        out[r - 1] /= downsampling_factor();
        return out;
    }

    /// q(z | x) for frames [N, C, H, W] or a video [B, T, C, H, W] of
    /// finite values, H and W multiples of f.
    DiagonalGaussian encode(const Tensor& x) const {
        constexpr const char* op = "Vae::encode";
        check_input(x, options_.in_channels, true, op, "frames");
        if (x.rank() == 4) return DiagonalGaussian::from_moments(encoder_.forward(x), 1);
        const DiagonalGaussian q = DiagonalGaussian::from_moments(encoder_.forward(temporal::fold_frames(x)), 1);
        return {temporal::unfold_frames(q.mean, x.size(0)), temporal::unfold_frames(q.logvar, x.size(0))};
    }

    /// Frames from latents [N, c, h, w] or [B, T, c, h, w] (unscaled).
    Tensor decode(const Tensor& z) const {
        check_input(z, options_.latent_channels, false, "Vae::decode", "latents");
        if (z.rank() == 4) return decoder_.forward(z);
        return temporal::unfold_frames(decoder_.forward(temporal::fold_frames(z)), z.size(0));
    }

    /// Encodes, samples z with `gen` and decodes: what training runs.
    VaeOutput forward(const Tensor& x, Generator& gen) const {
        VaeOutput out;
        out.posterior = encode(x);
        out.latent = out.posterior.sample(gen);
        out.reconstruction = decode(out.latent);
        return out;
    }

    /// s · z with z sampled from q(z | x): the latents diffusion trains on.
    Tensor encode_scaled(const Tensor& x, Generator& gen) const { return mul(encode(x).sample(gen), latent_scale()); }
    /// s · mean of q(z | x): deterministic latents.
    Tensor encode_scaled(const Tensor& x) const { return mul(encode(x).mean, latent_scale()); }
    /// decode(z / s): frames from latents a diffusion sampler produced.
    Tensor decode_scaled(const Tensor& scaled) const { return decode(div(scaled, latent_scale())); }

    std::int64_t params() const { return nn::count_parameters(*this); }

    void visit_parameters(const nn::ParameterVisitor& visit, const std::string& prefix) {
        encoder_.visit_parameters(visit, nn::join_name(prefix, "encoder"));
        decoder_.visit_parameters(visit, nn::join_name(prefix, "decoder"));
    }

private:
    /// [N, channels, H, W] or [B, T, channels, H, W] with positive H and W,
    /// multiples of the downsampling factor where `downsampled` says so.
    void check_shape(const Shape& s, std::int64_t channels, bool downsampled, const char* op,
                     std::string_view what) const {
        const int r = s.rank();
        VGT_CHECK(r == 4 || r == 5, op, "expected {} [N, {}, H, W] or a video [B, T, {}, H, W], found shape {}", what,
                  channels, channels, s);
        VGT_CHECK(s[r - 3] == channels, op, "expected {} with {} channels (dimension {}), found shape {}", what,
                  channels, r - 3, s);
        for (int d = 0; d < r - 3; ++d)
            VGT_CHECK(s[d] >= 1, op, "expected {} with at least one frame, found shape {}", what, s);
        VGT_CHECK(s[r - 2] >= 1 && s[r - 1] >= 1, op, "expected {} with positive height and width, found shape {}",
                  what, s);
        const std::int64_t f = downsampling_factor();
        VGT_CHECK(!downsampled || (s[r - 2] % f == 0 && s[r - 1] % f == 0), op,
                  "expected {} whose height and width are multiples of {} (the downsampling factor of {} levels), "
                  "found shape {}",
                  what, f, options_.levels(), s);
    }

    void check_input(const Tensor& x, std::int64_t channels, bool downsampled, const char* op,
                     std::string_view what) const {
        VGT_CHECK(x.defined(), op, "expected {}, found an undefined tensor", what);
        check_shape(x.shape(), channels, downsampled, op, what);
        VGT_CHECK(x.dtype() == dtype_, op, "expected {} {} like the VAE's parameters, found {}", dtype_name(dtype_),
                  what, x.str());
        const std::int64_t bad = detail::first_non_finite(x);
        VGT_CHECK(bad < 0, op, "expected finite {}, found NaN or infinity at element {} of {}", what, bad, x.str());
    }

    VaeOptions options_;
    DType dtype_;
    VaeEncoder encoder_;
    VaeDecoder decoder_;
};

/// s = 1 / std(z) over every element of latents z sampled from q(z | x) for
/// the data x (frames or videos): the latent scale that gives diffusion
/// unit-variance latents. std is the unbiased estimate, as torch.std.
inline double estimate_latent_scale(const Vae& vae, const Tensor& x, Generator& gen) {
    constexpr const char* op = "estimate_latent_scale";
    NoGradGuard no_grad;
    const Tensor z = vae.encode(x).sample(gen);
    const std::vector<double> values = z.to_vector<double>();
    VGT_CHECK(values.size() >= 2, op, "expected at least 2 latent values to take a standard deviation, found {}",
              values.size());
    double mean = 0;
    for (double v : values) mean += v;
    mean /= static_cast<double>(values.size());
    double squares = 0;
    for (double v : values) squares += (v - mean) * (v - mean);
    const double stddev = std::sqrt(squares / static_cast<double>(values.size() - 1));
    VGT_CHECK(std::isfinite(stddev) && stddev > 0, op,
              "expected latents with a positive finite standard deviation, found {} (are the frames all alike?)",
              stddev);
    return 1.0 / stddev;
}

}  // namespace vgt::models
