// A video VAE learns to compress MovingShapes. A small frame-wise VAE
// (latents 4× smaller in height and width, 4 channels) is trained with AdamW
// for 120 steps (about 15 s on two cores) on clips of coloured shapes; the
// reconstruction PSNR of held-out clips is printed before and after, and the
// latent scale that diffusion would use is measured at the end.

#include <cstdio>
#include <vector>

#include <vgt/models/vae.hpp>
#include <vgt/models/vae_loss.hpp>
#include <vgt/optim/adamw.hpp>
#include <vgt/vgt.hpp>

using namespace vgt;

namespace {

/// Clips [first, first + count) of the data set as one video batch [B, T, C, H, W].
Tensor clips(const data::MovingShapes& dataset, std::int64_t first, std::int64_t count) {
    std::vector<Tensor> videos;
    for (std::int64_t i = first; i < first + count; ++i) videos.push_back(dataset.get(i).video);
    return stack(videos, 0);
}

/// Mean PSNR (dB) of the clips' reconstructions from the posterior mean, in [0, 1].
double reconstruction_psnr(const models::Vae& vae, const Tensor& videos) {
    NoGradGuard no_grad;
    const Tensor reconstruction = clamp(vae.decode(vae.encode(videos).mean), 0.0, 1.0);
    double total = 0;
    for (std::int64_t b = 0; b < videos.size(0); ++b)
        total += metrics::video_psnr(select(videos, 0, b), select(reconstruction, 0, b)).mean;
    return total / static_cast<double>(videos.size(0));
}

}  // namespace

int main() {
    data::MovingShapesOptions shapes;
    shapes.frames = 8;
    shapes.height = shapes.width = 32;
    shapes.min_size = 8;
    shapes.max_size = 12;
    const data::MovingShapes dataset(shapes);
    const Tensor train = clips(dataset, 0, 16);
    const Tensor held_out = clips(dataset, 1000, 4);

    models::VaeOptions options;
    options.latent_channels = 4;
    options.base_channels = 16;
    options.channel_multipliers = {1, 2};  // two levels: ×4
    options.norm_groups = 8;
    Generator gen(2024);
    models::Vae vae(options, gen);
    std::printf("VAE: %lld parameters, frames 3x%lldx%lld -> latents %lldx%lldx%lld\n",
                static_cast<long long>(vae.params()), static_cast<long long>(shapes.height),
                static_cast<long long>(shapes.width), static_cast<long long>(options.latent_channels),
                static_cast<long long>(shapes.height / vae.downsampling_factor()),
                static_cast<long long>(shapes.width / vae.downsampling_factor()));

    const double psnr_before = reconstruction_psnr(vae, held_out);
    optim::AdamW optimizer(vae, {.lr = 1e-2, .weight_decay = 0});
    const models::VaeLossOptions loss_options{.reconstruction = models::ReconstructionLoss::l2, .kl_weight = 1e-4};
    constexpr int kSteps = 120;
    constexpr std::int64_t kBatch = 2;
    for (int step = 0; step < kSteps; ++step) {
        const Tensor batch = slice(train, 0, (step * kBatch) % train.size(0), (step * kBatch) % train.size(0) + kBatch);
        nn::zero_grad(vae);
        const models::VaeLoss loss = models::vae_loss(batch, vae.forward(batch, gen), loss_options);
        backward(loss.total);
        optimizer.step(vae);
        if (step % 20 == 0 || step == kSteps - 1)
            std::printf("step %3d  loss %.4f  (MSE %.4f, KL %.3f)\n", step, loss.total.item(),
                        loss.reconstruction.item(), loss.kl.item());
    }

    const double psnr_after = reconstruction_psnr(vae, held_out);
    std::printf("held-out reconstruction PSNR: %.2f dB before training, %.2f dB after\n", psnr_before, psnr_after);
    Generator scale_gen(7);
    vae.set_latent_scale(models::estimate_latent_scale(vae, train, scale_gen));
    std::printf("latent scale for diffusion (1 / std of the latents): %.4f\n", vae.latent_scale());
    return psnr_after > psnr_before ? 0 : 1;
}
