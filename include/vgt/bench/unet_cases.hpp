#pragma once
// One training step of each UNet preset as a timing case: the denoiser of
// the text-to-video quality bar (benchmarks/quality/t2v.json: 32×32 RGB
// frames, 8 frames, batch 8, base 16 channels, cross-attention to 16
// context tokens of width 32), float32.
//
//   fwd      the UNet's forward and the MSE loss, tape off;
//   fwd+bwd  forward, loss, backward into every weight, one AdamW step:
//            the whole step that `vgt train` repeats, less the text
//            encoder, the time embedding and the noising (all small).
//
// benchmarks/vgt_bench_unet times these; benchmarks/unet_torch.py defines
// the same cases for PyTorch (the UNet twin of tests/golden/make_video_unet.py)
// with the same names, descriptions, FLOPs and weight counts.

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "vgt/bench/timing.hpp"
#include "vgt/core/random.hpp"
#include "vgt/core/shape.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/models/unet_presets.hpp"
#include "vgt/models/video_unet.hpp"
#include "vgt/ops/loss.hpp"
#include "vgt/optim/adamw.hpp"

namespace vgt::bench {

/// The quality bar's UNet options (benchmarks/quality/t2v.json, "unet").
inline models::VideoUNetOptions quality_bar_unet_options() {
    models::VideoUNetOptions o;
    o.in_channels = 3;
    o.out_channels = 3;
    o.base_channels = 16;
    o.channel_mult = {1, 2, 2};
    o.res_blocks = 1;
    o.attention_levels = {1, 2};
    o.heads = 2;
    o.temporal_heads = 2;
    o.context_dim = 32;
    o.time_embed_dim = 64;
    o.max_frames = 8;
    return o;
}

/// The quality bar's batch of videos [B, T, C, H, W] and its caption length.
inline Shape quality_bar_video() { return Shape{8, 8, 3, 32, 32}; }
inline constexpr std::int64_t quality_bar_context_tokens = 16;

/// Weights are redrawn from U(-range, range) after the UNet's own
/// initialisation, as in the block cases: zero-initialised projections
/// would make parts of the backward trivially cheap.
inline constexpr double unet_weight_range = 0.1;

/// The optimiser of the step (both sides use the same settings).
inline optim::AdamWOptions unet_step_adamw() {
    optim::AdamWOptions o;
    o.lr = 1e-4;
    o.weight_decay = 0.01;
    return o;
}

/// Redraws every weight of a model that is still on the CPU from
/// U(-unet_weight_range, unet_weight_range), in place (the tensors keep
/// their identity), and returns the weights in visiting order.
template <class UNet>
std::vector<Tensor> redraw_unet_weights(UNet& model, Generator& gen) {
    std::vector<Tensor> weights;
    model.visit_parameters(
        [&](const std::string&, Tensor& p) {
            const Tensor r = rand(p.shape(), gen, p.dtype(), -unet_weight_range, unet_weight_range);
            std::memcpy(p.raw_data(), r.raw_data(), p.nbytes());
            weights.push_back(p);
        },
        "");
    return weights;
}

namespace detail {

/// Everything one UNet case owns between its timed calls.
template <class UNet>
struct UNetStep {
    UNet model;
    optim::AdamW optimiser;
    Tensor x, time_embedding, context, target;

    UNetStep(const models::VideoUNetOptions& options, Generator& gen)
        : model(options, gen), optimiser(model, unet_step_adamw()) {}
};

template <class UNet>
BenchCase unet_step_case(std::string_view preset) {
    const models::VideoUNetOptions options = quality_bar_unet_options();
    const Shape video = quality_bar_video();
    BenchCase c;
    c.name = fmt::format("unet_{}", preset);
    c.description = fmt::format("UNet preset {} training step, x {}, context [{}, {}, {}]", preset, video, video[0],
                                quality_bar_context_tokens, options.context_dim);
    {
        Generator gen(1234);
        const UNet probe(options, gen);
        c.params = probe.params();
        c.flops = probe.flops(video, quality_bar_context_tokens);
    }
    c.make = [options, video] {
        Generator gen(1234);
        auto step = std::make_shared<UNetStep<UNet>>(options, gen);
        std::vector<Tensor> leaves = redraw_unet_weights(step->model, gen);
        const std::int64_t batch = video[0];
        step->x = rand(video, gen, DType::Float32, -1.0, 1.0);
        step->target = rand(video, gen, DType::Float32, -1.0, 1.0);
        step->time_embedding = rand(Shape{batch, options.time_embed_dim}, gen, DType::Float32, -1.0, 1.0);
        step->context =
            rand(Shape{batch, quality_bar_context_tokens, options.context_dim}, gen, DType::Float32, -1.0, 1.0);
        Workload w;
        w.leaves = std::move(leaves);
        w.forward = [step] {
            return mse_loss(step->model.forward(step->x, step->time_embedding, step->context), step->target);
        };
        w.update = [step] { step->optimiser.step(step->model); };
        return w;
    };
    return c;
}

}  // namespace detail

/// One case per preset of models/unet_presets.hpp, in the catalog's order.
inline std::vector<BenchCase> unet_step_cases() {
    std::vector<BenchCase> cases;
    for (std::string_view preset : models::kUNetNames)
        models::visit_unet(preset, [&]<class UNet>() { cases.push_back(detail::unet_step_case<UNet>(preset)); });
    return cases;
}

}  // namespace vgt::bench
