#pragma once
// What the experiment tests share: the smallest text-to-video training
// setup, and the message of an expected error.

#include <functional>
#include <string>

#include <vgt/core/error.hpp>
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
