// Video prediction with ConvLSTM on MovingFashionMNIST. A video UNet whose
// temporal mixer is a ConvLSTM sees the first 3 frames of a clip of
// Fashion-MNIST items moving in a 40×40 frame and predicts the next 3 in one
// pass; trained with AdamW, then scored by PSNR and SSIM on clips of the
// test split against copying the last known frame forward (what it does
// before training). Writes a GIF of each clip beside its prediction.
//
//   08_convlstm_prediction [STEPS]     (default 80: about a minute on two cores)
//
// Needs Debian's dataset-fashion-mnist (or VGT_FASHION_MNIST_DIR).

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include <vgt/experiment/frame_prediction.hpp>
#include <vgt/experiment/prediction_run.hpp>
#include <vgt/experiment/unet_model.hpp>
#include <vgt/vgt.hpp>

using namespace vgt;

int main(int argc, char** argv) {
    const long steps = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 80;
    experiment::TrainConfig config;
    auto& clips = config.data.moving_fashion_mnist;
    config.data.dataset = "moving-fashion-mnist";
    clips.frames = 6;
    clips.height = clips.width = 40;
    clips.min_items = clips.max_items = 1;
    clips.min_speed = 1.0;
    clips.max_speed = 2.0;
    auto& unet = config.unet;
    unet.base_channels = 16;
    unet.channel_mult = {1, 2};
    unet.res_blocks = 1;
    unet.attention_levels = {};
    unet.time_embed_dim = 16;
    config.optim.adamw.lr = 2e-3;
    config.optim.lr_schedule.warmup_steps = std::min(10L, steps / 4);
    config.optim.lr_schedule.total_steps = steps;
    config.training.steps = steps;
    config.training.batch_size = 4;
    config.training.log_every = 10;
    config.training.progress = "lines";

    try {
        using UNet = models::VideoUNet<temporal::FrameConv, temporal::ConvLSTM>;
        const std::int64_t context = 3;
        Generator init(0);
        experiment::FramePredictor model(
            experiment::unet_factory<UNet>("FrameConv+ConvLSTM")(
                experiment::FramePredictor::unet_options(unet, clips.channels), init),
            clips.channels, context, unet.time_embed_dim);
        std::printf("FrameConv+ConvLSTM predictor: %lld UNet parameters; predicts frames %d-%d from the first %lld\n",
                    static_cast<long long>(model.unet().params()), static_cast<int>(context) + 1, clips.frames,
                    static_cast<long long>(context));

        const std::filesystem::path dir = "convlstm_prediction";
        const experiment::PredictionTraining run = experiment::train_predictor(model, config, dir);
        std::printf("loss: first step %.4f, last step %.4f (%lld steps)\n", run.losses.front(), run.losses.back(),
                    static_cast<long long>(run.steps));

        const experiment::PredictionQuality q =
            experiment::score_predictor(model, config.data, 32, 8, 4, std::filesystem::path("."), dir);
        std::printf("on %lld test clips: PSNR %.2f dB, SSIM %.3f (copying the last frame: %.2f dB, %.3f)\n",
                    static_cast<long long>(q.clips), q.psnr, q.ssim, q.baseline_psnr, q.baseline_ssim);
        if (!q.strip.empty()) std::printf("clips beside their predictions: %s\n", q.strip.c_str());
    } catch (const Error& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    return 0;
}
