// A tiny text-to-video model trained from scratch on MovingShapes. A Gen-1
// style UNet (Conv2Plus1D + temporal attention) is trained with the
// experiment::Trainer for 150 steps on 16×16 clips of 4 frames (about a
// minute on two cores). The loss is printed as it falls, and the model then
// samples two prompts with classifier-free guidance into tiny_t2v/.

#include <cstdio>
#include <numeric>

#include <vgt/experiment/trainer.hpp>
#include <vgt/io/npy.hpp>
#include <vgt/io/video.hpp>

using namespace vgt;

int main() {
    experiment::TrainConfig c;
    c.model = "gen1";
    auto& shapes = c.data.moving_shapes;
    shapes.frames = 4;
    shapes.height = shapes.width = 16;
    shapes.min_size = 5;
    shapes.max_size = 8;
    shapes.max_objects = 1;
    c.unet.base_channels = 16;
    c.unet.channel_mult = {1, 2};
    c.unet.res_blocks = 1;
    c.unet.attention_levels = {1};
    c.unet.heads = 2;
    c.unet.temporal_heads = 2;
    c.unet.context_dim = c.text_encoder.width = 32;
    c.unet.time_embed_dim = c.time_embedding.width = 32;
    c.text_encoder.layers = 1;
    c.text_encoder.heads = 2;
    c.text_encoder.max_length = 16;
    c.time_embedding.frequency_channels = 32;
    c.diffusion.timesteps = 200;
    c.diffusion.sample_steps = 20;
    c.diffusion.guidance = 2.0;
    c.optim.adamw.lr = 3e-3;
    c.optim.lr_schedule.warmup_steps = 10;
    c.optim.lr_schedule.total_steps = 150;
    c.optim.lr_schedule.min_lr_ratio = 0.1;
    c.optim.ema = optim::EmaOptions{0.98, true};
    c.training.steps = 150;
    c.training.batch_size = 8;
    c.training.log_every = 25;
    c.training.sample_every = 0;
    c.training.checkpoint_every = 0;
    c.training.output_dir = "tiny_t2v";
    c.training.resume = false;

    experiment::Trainer trainer(c);
    std::printf("UNet parameters: %lld, vocabulary: %lld tokens\n",
                static_cast<long long>(trainer.model().unet().params()),
                static_cast<long long>(trainer.model().tokenizer().size()));
    const experiment::TrainResult result = trainer.run();
    const auto mean = [&](std::size_t first, std::size_t count) {
        return std::accumulate(result.losses.begin() + static_cast<std::ptrdiff_t>(first),
                               result.losses.begin() + static_cast<std::ptrdiff_t>(first + count), 0.0) /
               static_cast<double>(count);
    };
    std::printf("mean loss: first 10 steps %.4f, last 10 steps %.4f\n", mean(0, 10),
                mean(result.losses.size() - 10, 10));

    experiment::SampleRequest request;
    request.prompts = {"a red circle moving right", "a blue square moving down"};
    request.seed = 1;
    const Tensor videos = trainer.model().sample(request);  // the training weights
    if (io::video_io_available()) {
        io::write_video("tiny_t2v/samples.gif", experiment::tile_side_by_side(videos), {.fps = 4});
        std::printf("wrote tiny_t2v/samples.gif and %s\n", result.checkpoint.c_str());
    } else {
        io::write_npy("tiny_t2v/samples.npy", videos);
        std::printf("wrote tiny_t2v/samples.npy and %s\n", result.checkpoint.c_str());
    }
    return 0;
}
