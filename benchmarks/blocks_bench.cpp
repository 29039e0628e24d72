// vgt's side of the temporal-block benchmark: every conv stage and temporal
// mixer, forward and forward+backward, on a video [B=2, T=8, C=64, H=32,
// W=32] in float32 on a fixed number of threads. benchmarks/blocks_torch.py
// holds the same cases for PyTorch, and benchmarks/run-blocks runs the two
// alternately and prints the comparison.
//
//   vgt_bench_blocks [--case NAME]... [--reps N] [--min-time SECONDS]
//                    [--warmup N] [--threads N] [--json] [--list]
//
// With --json each case prints one JSON object on its own line.

#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "bench_harness.hpp"
#include "vgt/core/random.hpp"
#include "vgt/core/shape.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/nn/parameters.hpp"
#include "vgt/temporal/catalog.hpp"
#include "vgt/temporal/options.hpp"

namespace {

using vgt::Shape;
using vgt::Tensor;
using vgt::bench::BenchCase;
using vgt::bench::Workload;

constexpr std::int64_t batch = 2, frames = 8, channels = 64, size = 32;
const Shape video_shape{batch, frames, channels, size, size};

/// Every weight is redrawn from U(−range, range) after the block's own
/// initialisation, so that zero-initialised output projections (every
/// mixer starts as the identity) do not make the backward trivially cheap.
constexpr double weight_range = 0.1;

/// A block of type Block built from `options`, its weights randomised, on a
/// uniform input video. Leaves: the video and every parameter.
template <class Block, class Options>
BenchCase block_case(std::string name, std::string description, const Options& options, const Shape& video) {
    BenchCase c;
    c.name = std::move(name);
    c.description = fmt::format("{}, x {}", description, video);
    {
        vgt::Generator gen(1234);
        const Block probe(options, gen);
        c.params = probe.params();
        c.flops = probe.flops(video);
    }
    c.make = [options, video] {
        vgt::Generator gen(1234);
        auto block = std::make_shared<Block>(options, gen);
        block->visit_parameters(
            [&](const std::string&, Tensor& p) {
                const Tensor r = vgt::rand(p.shape(), gen, p.dtype(), -weight_range, weight_range);
                std::memcpy(p.raw_data(), r.raw_data(), p.nbytes());
            },
            "");
        const Tensor x = vgt::rand(video, gen, vgt::DType::Float32, -1.0, 1.0);
        std::vector<Tensor> leaves{x};
        block->visit_parameters([&](const std::string&, Tensor& p) { leaves.push_back(p); }, "");
        return Workload{leaves, [block, x] { return block->forward(x); }};
    };
    return c;
}

/// Called by the catalog with the block type that a name stands for.
template <class Options>
struct CaseForType {
    std::string name;
    std::string description;
    Options options;
    Shape video;
    BenchCase* out;
    template <class Block>
    void operator()() const {
        *out = block_case<Block>(name, description, options, video);
    }
};

BenchCase stage_case(std::string name, std::string_view stage, std::string description,
                     const vgt::temporal::ConvStageOptions& options) {
    BenchCase c;
    vgt::temporal::visit_conv_stage(
        stage, CaseForType<vgt::temporal::ConvStageOptions>{std::move(name), std::move(description), options,
                                                            video_shape, &c});
    return c;
}

BenchCase mixer_case(std::string name, std::string_view mixer, std::string_view position, std::string description,
                     const vgt::temporal::MixerOptions& options, const Shape& video = video_shape) {
    BenchCase c;
    vgt::temporal::visit_mixer(mixer, position,
                               CaseForType<vgt::temporal::MixerOptions>{std::move(name), std::move(description),
                                                                        options, video, &c});
    return c;
}

/// The cases, in the order they run: the GEMM peak, the conv stages (64 → 64
/// channels), then the mixers (heads 4, default norm groups).
std::vector<BenchCase> all_cases() {
    vgt::temporal::ConvStageOptions stage;
    stage.in_channels = channels;
    stage.out_channels = channels;
    stage.temporal_kernel = 3;
    stage.max_frames = frames;

    vgt::temporal::MixerOptions mixer;
    mixer.channels = channels;
    mixer.heads = 4;

    // Joint attention over all T·H·W tokens holds a [heads, L, L] matrix per
    // video: at 32×32 that is L = 8192 (1 GiB of float32 scores per video),
    // so it runs on 8×8 frames (L = 512).
    const Shape small_video{batch, frames, channels, 8, 8};

    std::vector<BenchCase> cases;
    cases.push_back(vgt::bench::peak_case());
    cases.push_back(stage_case("frame_conv", "FrameConv", "FrameConv 3x3, 64 -> 64", stage));
    cases.push_back(stage_case("conv3d", "Conv3D", "Conv3D 3x3x3, 64 -> 64", stage));
    cases.push_back(stage_case("conv2plus1d", "Conv2Plus1D", "Conv2Plus1D 3x3 then kt 3, 64 -> 64", stage));
    cases.push_back(stage_case("adapter_conv2d", "AdapterConv2D", "AdapterConv2D 3x3, Tmax 8, 64 -> 64", stage));
    cases.push_back(mixer_case("temporal_attention", "TemporalAttention", "NoPosition",
                               "TemporalAttention, NoPosition, heads 4", mixer));
    cases.push_back(mixer_case("temporal_attention_rope", "TemporalAttention", "RoPE",
                               "TemporalAttention, RoPE, heads 4", mixer));
    cases.push_back(mixer_case("directed_attention", "DirectedAttention", "NoPosition",
                               "DirectedAttention, NoPosition, heads 4, pre-softmax mask", mixer));
    cases.push_back(mixer_case("spatiotemporal_attention", "SpatioTemporalAttention", "NoPosition",
                               "SpatioTemporalAttention, NoPosition, heads 4, 8x8 frames (512 tokens per video)",
                               mixer, small_video));
    cases.push_back(mixer_case("conv_lstm", "ConvLSTM", "", "ConvLSTM 3x3", mixer));
    cases.push_back(mixer_case("flow_warp", "FlowWarp", "", "FlowWarp, flow head", mixer));
    cases.push_back(mixer_case("tcn", "TCN", "", "TCN 2 levels, kernel 3", mixer));
    cases.push_back(mixer_case("frame_delta", "FrameDelta", "", "FrameDelta", mixer));
    return cases;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return vgt::bench::run_main(argc, argv, "vgt_bench_blocks", all_cases());
    } catch (const std::exception& e) {  // a block that fails to build its case
        fmt::print(stderr, "vgt_bench_blocks: {}\n", e.what());
        return 1;
    }
}
