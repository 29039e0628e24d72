// An ablation with a mixer of your own: ClipMean (every frame hears the mean
// of the whole clip through a 1×1 conv, the cheapest way for frames to share
// anything) trained and scored against no temporal mixing and against
// temporal attention, on the same MovingShapes data, seed and steps. Writes
// report.md, report.html, loss.svg and results.json.
//
//   07_ablation [OUTPUT_DIR] [STEPS]     (defaults: runs/07_ablation, 150 steps: about half a minute)
//
// The same study at a size that learns something: 32×32 frames, 400 steps
// (see benchmarks/ablations/ for configs that `vgt ablate` runs).

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <vgt/experiment/ablation.hpp>
#include <vgt/experiment/ablation_report.hpp>
#include <vgt/vgt.hpp>

using namespace vgt;

class ClipMean {
public:
    static constexpr std::string_view name = "ClipMean";

    ClipMean(const temporal::MixerOptions& o, Generator& gen)
        : norm_(nn::default_norm_groups(o.channels), o.channels, o.dtype),
          mix_(o.channels, o.channels, {1, 1}, {}, gen, o.dtype) {
        mix_.zero_();  // the identity when created, as every built-in mixer
    }

    Tensor forward(const Tensor& x) const {
        const auto v = temporal::VideoShape::of(x, "ClipMean");
        const Tensor h = temporal::unfold_frames(norm_.forward(temporal::fold_frames(x)), v.batch);
        const Tensor context = contiguous(expand(mean(h, {1}, true), x.shape()));  // [B, T, C, H, W]
        return x + temporal::unfold_frames(mix_.forward(temporal::fold_frames(context)), v.batch);
    }

    std::int64_t params() const { return nn::count_parameters(*this); }
    double flops(const Shape& s) const { return mix_.flops(s[0] * s[1] * s[3] * s[4]); }
    bool is_causal() const { return false; }  // frame t hears frames after it

    void visit_parameters(const nn::ParameterVisitor& visit, const std::string& prefix) {
        norm_.visit_parameters(visit, nn::join_name(prefix, "norm"));
        mix_.visit_parameters(visit, nn::join_name(prefix, "mix"));
    }

private:
    nn::GroupNorm norm_;
    nn::Conv mix_;
};

static_assert(temporal::check_temporal_mixer<ClipMean>());

using experiment::Variant;
using Study = experiment::Ablation<Variant<models::VideoUNet<temporal::FrameConv, temporal::NoMixer>>,
                                   Variant<models::VideoUNet<temporal::FrameConv, temporal::TemporalAttention<>>>,
                                   Variant<models::VideoUNet<temporal::FrameConv, ClipMean>>>;

int main(int argc, char** argv) {
    experiment::AblationConfig config;
    config.name = "ClipMean against the built-in mixers";
    config.variants = Study::names();
    config.output_dir = argc > 1 ? argv[1] : "runs/07_ablation";
    const long steps = argc > 2 ? std::strtol(argv[2], nullptr, 10) : 150;

    experiment::TrainConfig& train = config.train;
    auto& shapes = train.data.moving_shapes;
    shapes.frames = 4;
    shapes.height = shapes.width = 16;
    shapes.min_size = 5;
    shapes.max_size = 7;
    shapes.max_objects = 1;
    shapes.palette = data::primary_palette();
    shapes.held_out = {"red circle left", "green square right", "blue triangle up"};
    shapes.split = "train";
    auto& unet = train.unet;
    unet.base_channels = 8;
    unet.channel_mult = {1, 2};
    unet.attention_levels = {1};
    unet.res_blocks = 1;
    unet.heads = unet.temporal_heads = 2;
    unet.context_dim = train.text_encoder.width = 16;
    unet.time_embed_dim = train.time_embedding.width = 32;
    train.text_encoder.layers = 1;
    train.text_encoder.heads = 2;
    train.text_encoder.max_length = 12;
    train.time_embedding.frequency_channels = 16;
    train.diffusion.process = "flow";
    train.diffusion.objective = diffusion::Objective::flow;
    train.diffusion.sampler = diffusion::SamplerKind::euler;
    train.diffusion.sample_steps = 10;
    train.optim.adamw.lr = 2e-3;
    train.optim.lr_schedule.warmup_steps = std::min(5L, steps / 4);
    train.optim.lr_schedule.total_steps = steps;
    train.training.steps = steps;
    train.training.batch_size = 4;
    train.training.sample_every = 0;
    train.training.checkpoint_every = 0;
    train.training.log_every = 10;
    train.training.progress = "lines";
    config.evaluation.prompts = 6;
    config.evaluation.batch = 6;
    config.evaluation.strip_videos = 3;

    try {
        const experiment::AblationResult result = Study::run(config);
        experiment::write_ablation_report(result, "07_ablation");
        std::printf("%-30s %10s %12s %10s %8s\n", "variant", "parameters", "step (ms)", "final loss", "colour");
        for (const experiment::VariantResult& v : result.variants)
            std::printf("%-30s %10lld %12.1f %10.4f %8.2f\n", v.name.c_str(), static_cast<long long>(v.params),
                        v.step_ms, v.final_loss, v.quality.empty() ? 0.0 : v.quality[0].colour_accuracy);
        std::printf("report: %s/report.md\n", config.output_dir.c_str());
    } catch (const Error& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    return 0;
}
