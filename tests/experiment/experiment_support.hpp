#pragma once
// What the experiment tests share: the smallest text-to-video training
// setup, the first clips of its data, a model whose every input matters,
// and the message of an expected error.

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include <vgt/core/error.hpp>
#include <vgt/data/batch.hpp>
#include <vgt/data/moving_shapes.hpp>
#include <vgt/experiment/text_to_video.hpp>
#include <vgt/experiment/train_config.hpp>

namespace vgt::test {

/// A model and data small enough for CI: 8×8 clips of 2 frames, one shape.
inline experiment::TrainConfig tiny_train_config(const std::string& model, const std::string& output_dir) {
    experiment::TrainConfig c;
    c.model = model;
    auto& d = c.data.moving_shapes;
    d.frames = 2;
    d.height = d.width = 8;
    d.min_size = 3;
    d.max_size = 5;
    d.max_objects = 1;
    d.epoch_size = 64;
    auto& u = c.unet;
    u.base_channels = 8;
    u.channel_mult = {1, 2};
    u.res_blocks = 1;
    u.attention_levels = {1};
    u.heads = 2;
    u.temporal_heads = 2;
    u.context_dim = 16;
    u.time_embed_dim = 16;
    u.max_frames = 4;
    auto& t = c.text_encoder;
    t.vocab_limit = 64;
    t.max_length = 12;
    t.width = 16;
    t.layers = 1;
    t.heads = 2;
    t.mlp_ratio = 2;
    c.time_embedding.frequency_channels = 16;
    c.time_embedding.width = 16;
    c.diffusion.timesteps = 100;
    c.diffusion.sample_steps = 2;
    c.optim.adamw.lr = 3e-3;
    c.optim.lr_schedule.total_steps = 1000;
    c.optim.ema = optim::EmaOptions{0.9, true};
    c.training.steps = 4;
    c.training.batch_size = 4;
    c.training.log_every = 1;
    c.training.sample_every = 0;
    c.training.checkpoint_every = 0;
    c.training.output_dir = output_dir;
    c.training.vocab_clips = 32;
    c.training.prefetch = 0;
    c.training.progress = "off";
    return c;
}

/// A float32 tensor's values.
inline std::vector<float> values(const Tensor& t) { return contiguous(t).to_vector<float>(); }

/// Blocks start as identity (docs: zero-initialised output projections and
/// output conv), which hides extra input channels, context tokens and flows
/// at first; random values in every all-zero parameter make the output
/// depend on all of the model's inputs.
inline void open_zero_parameters(experiment::TextToVideo& model) {
    Generator gen(99);
    model.visit_parameters(
        [&](const std::string&, Tensor& p) {
            float* v = p.data<float>();
            if (std::any_of(v, v + p.numel(), [](float x) { return x != 0.0f; })) return;
            const Tensor r = mul(randn(p.shape(), gen, p.dtype()), 0.05);
            std::copy_n(r.data<float>(), p.numel(), v);
        },
        "");
}

/// The first two clips of the config's MovingShapes, as one batch.
inline data::Batch<data::ShapesClip> two_clips(const experiment::TrainConfig& c) {
    data::MovingShapes shapes(c.data.moving_shapes);
    return data::collate(std::vector<data::ShapesClip>{shapes.get(0), shapes.get(1)});
}

/// The message of the vgt::Error that `f` throws, or "(no error)".
inline std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

}  // namespace vgt::test
