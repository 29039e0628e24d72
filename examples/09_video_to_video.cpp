// Gen-1's video-to-video on a real clip. OpenCV's vtest.avi (people walking
// along a path by a lawn, seen from above; Debian's opencv-doc) is read at
// 36×48, every other frame. A structure-conditioned model (the
// luminance-edge map of each clip beside the noisy input) learns 4-frame
// windows of the first 60 frames read, each shown as it is, "a street", or
// tinted red (green and blue at 40%), "a red street". The model is Gen-1's
// UNet preset (Conv2Plus1D conv stages, temporal attention). Then a later,
// held-out stretch of 8 frames is edited both ways, keeping its structure,
// and scored by PSNR: "a street" against the source, "a red street" against
// the truly tinted clip, with the unedited source as the do-nothing
// baseline. Writes video_to_video/edit.gif: source, "a street", "a red street".
//
//   09_video_to_video [STEPS] [CLIP]     (default 150 steps: about two minutes on one core;
//                                         CLIP defaults to opencv-doc's vtest.avi)

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <vgt/experiment/text_to_video.hpp>
#include <vgt/experiment/video_conditions.hpp>
#include <vgt/metrics/temporal_consistency.hpp>
#include <vgt/vgt.hpp>

using namespace vgt;

namespace {

constexpr const char* kDebianClip = "/usr/share/doc/opencv-doc/examples/data/vtest.avi";
constexpr std::int64_t kWindow = 4;  // frames of a training window
constexpr std::int64_t kFrames = 8;  // frames of the edit
constexpr std::int64_t kHeight = 36, kWidth = 48;
constexpr std::int64_t kTrainFrames = 60;  // windows start in [0, kTrainFrames − kWindow]
constexpr std::int64_t kHeldOut = 80;      // the edited stretch starts here, past every training frame

/// [.., 3, H, W] tinted red: green and blue scaled down to 40%.
Tensor tint_red(const Tensor& video) {
    const std::int64_t c = video.rank() - 3;
    return concat({slice(video, c, 0, 1), mul(slice(video, c, 1, 3), 0.4)}, c);
}

/// The mean of red minus the mean of green and blue over a video [.., 3, H, W].
double redness(const Tensor& video) {
    const std::int64_t c = video.rank() - 3;
    return mean(slice(video, c, 0, 1)).item<double>() - mean(slice(video, c, 1, 3)).item<double>();
}

experiment::TrainConfig edit_config(const std::filesystem::path& clip, long steps) {
    experiment::TrainConfig c;
    c.model = "gen1";
    c.data.dataset = "video-folder";     // its geometry: the clips' shape
    c.data.video_folder.root = clip.parent_path().string();
    auto& v = c.data.video_folder.options;
    v.frames = kWindow;
    v.height = kHeight;
    v.width = kWidth;
    auto& u = c.unet;
    u.in_channels = 4;  // RGB + the structure map
    u.base_channels = 16;
    u.channel_mult = {1, 2};
    u.res_blocks = 1;
    u.attention_levels = {1};
    u.heads = 2;
    u.context_dim = c.text_encoder.width = 32;
    u.time_embed_dim = c.time_embedding.width = 32;
    u.max_frames = kFrames;
    c.text_encoder.layers = 1;
    c.text_encoder.heads = 2;
    c.text_encoder.max_length = 8;
    c.time_embedding.frequency_channels = 32;
    c.conditioning.structure = true;
    c.conditioning.max_structure_level = 1;
    c.conditioning.pooled_text = true;
    c.diffusion.process = "flow";
    c.diffusion.objective = diffusion::Objective::flow;
    c.diffusion.time_sampling = diffusion::TimeSampling::logit_normal;
    c.diffusion.sampler = diffusion::SamplerKind::euler;
    c.diffusion.sample_steps = 16;
    c.diffusion.guidance = 2.0;
    c.training.steps = steps;
    return c;
}

}  // namespace

int main(int argc, char** argv) {
    const long steps = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 150;
    const std::filesystem::path clip = argc > 2 ? argv[2] : kDebianClip;
    if (steps < 1) {
        std::fprintf(stderr, "09_video_to_video: expected STEPS >= 1, found %s\n", argv[1]);
        return 2;
    }
    if (!io::video_io_available()) {
        std::fprintf(stderr, "09_video_to_video: this example reads a video file; build vgt with FFmpeg\n");
        return 1;
    }
    if (!std::filesystem::exists(clip)) {
        std::fprintf(stderr,
                     "09_video_to_video: expected the clip %s, found no such file (install Debian's opencv-doc, "
                     "or pass a video file as the second argument)\n",
                     clip.c_str());
        return 1;
    }

    try {
        // Every other frame, enough for the training frames and the held-out stretch.
        const Tensor street = io::read_video(clip.string(), {.max_frames = 2 * (kHeldOut + kFrames),
                                                             .stride = 2,
                                                             .height = kHeight,
                                                             .width = kWidth})
                                  .frames;  // [F, 3, H, W] in [0, 1]
        if (street.size(0) < kHeldOut + kFrames) {
            std::fprintf(stderr, "09_video_to_video: expected at least %lld frames in %s (every other one read), "
                         "found %lld\n",
                         static_cast<long long>(kHeldOut + kFrames), clip.c_str(),
                         static_cast<long long>(street.size(0)));
            return 1;
        }

        const experiment::TrainConfig config = edit_config(clip, steps);
        const std::vector<std::string> captions = {"a street", "a red street"};
        Generator init(0);
        experiment::TextToVideo model = experiment::TextToVideo::from_captions(config, captions, init);
        std::printf("Gen-1 edit model: %lld UNet parameters, %lld frames of %s at %lldx%lld\n",
                    static_cast<long long>(model.unet().params()), static_cast<long long>(street.size(0)),
                    clip.filename().c_str(), static_cast<long long>(kHeight), static_cast<long long>(kWidth));

        // A batch: windows at random starts, each tinted or not at random.
        optim::AdamW optimizer(model, {.lr = 3e-3, .weight_decay = 0});
        Generator gen(1);
        const std::int64_t batch = 4;
        double first_losses = 0, last_losses = 0;
        const long report = std::min(10L, steps);
        for (long step = 1; step <= steps; ++step) {
            const auto starts = experiment::draw_integers(batch, kTrainFrames - kWindow + 1, gen);
            const auto tinted = experiment::draw_integers(batch, 2, gen);
            std::vector<Tensor> windows;
            std::vector<std::string> texts;
            for (std::int64_t b = 0; b < batch; ++b) {
                const Tensor window = slice(street, 0, starts[b], starts[b] + kWindow);
                windows.push_back(tinted[b] ? tint_red(window) : window);
                texts.push_back(captions[tinted[b]]);
            }
            nn::zero_grad(model);
            const diffusion::DenoisingLoss loss = model.training_loss(stack(windows, 0), texts, 0.1, gen);
            backward(loss.loss);
            optimizer.step(model);
            const double value = loss.loss.item<double>();
            if (step <= report) first_losses += value / static_cast<double>(report);
            if (step > steps - report) last_losses += value / static_cast<double>(report);
            if (step % 25 == 0 || step == steps) std::printf("step %4ld  loss %.4f\n", step, value);
        }
        std::printf("mean loss: first %ld steps %.4f, last %ld steps %.4f\n", report, first_losses, report,
                    last_losses);

        // The held-out stretch, edited both ways with its own structure.
        const Tensor source = unsqueeze(slice(street, 0, kHeldOut, kHeldOut + kFrames), 0);  // [1, T, 3, H, W]
        experiment::SampleRequest request;
        request.prompts = captions;
        request.source = source;
        request.seed = 2;
        const Tensor edits = model.sample(request);  // [2, T, 3, H, W]
        const Tensor kept = select(edits, 0, 0), red = select(edits, 0, 1);
        const Tensor truth = tint_red(select(source, 0, 0));
        std::printf("\nheld-out frames %lld-%lld, edited:\n", static_cast<long long>(kHeldOut),
                    static_cast<long long>(kHeldOut + kFrames - 1));
        std::printf("  \"a street\":       PSNR %.2f dB against the source\n", metrics::psnr(select(source, 0, 0), kept));
        std::printf("  \"a red street\":   PSNR %.2f dB against the tinted source (the source itself: %.2f dB)\n",
                    metrics::psnr(truth, red), metrics::psnr(truth, select(source, 0, 0)));
        std::printf("  red minus green and blue: source %+.3f, \"a street\" %+.3f, \"a red street\" %+.3f, tinted %+.3f\n",
                    redness(source), redness(kept), redness(red), redness(truth));
        std::printf("  flicker (flow-warping error): source %.5f, \"a street\" %.5f, \"a red street\" %.5f\n",
                    metrics::temporal_consistency(select(source, 0, 0)).error.mean,
                    metrics::temporal_consistency(kept).error.mean, metrics::temporal_consistency(red).error.mean);

        std::filesystem::create_directories("video_to_video");
        // Side by side: [T, 3, H, 3·W].
        const Tensor strip = concat({select(source, 0, 0), kept, red}, 3);
        io::write_video("video_to_video/edit.gif", strip, {.fps = 5});
        std::printf("wrote video_to_video/edit.gif: the source, \"a street\", \"a red street\"\n");
    } catch (const Error& e) {
        std::fprintf(stderr, "09_video_to_video: %s\n", e.what());
        return 1;
    }
    return 0;
}
