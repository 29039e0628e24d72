#pragma once
// The temporal blocks as timing cases: every conv stage (C -> C channels)
// and temporal mixer (heads 4, default norm groups) on a random video of a
// given shape, float32. `vgt bench blocks` and benchmarks/vgt_bench_blocks
// time them with vgt/bench/timing.hpp; benchmarks/blocks_torch.py defines
// the same cases for PyTorch at the default shape, with the same names,
// descriptions, FLOPs and weight counts.
//
//   for (const BenchCase& c : block_cases(Shape{2, 8, 64, 32, 32})) ...
//   BenchCase tcn = block_case("tcn", video);

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "vgt/bench/timing.hpp"
#include "vgt/core/error.hpp"
#include "vgt/core/random.hpp"
#include "vgt/core/shape.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/temporal/catalog.hpp"
#include "vgt/temporal/options.hpp"

namespace vgt::bench {

/// The video [B, T, C, H, W] the benchmark suite compares with PyTorch on.
inline Shape default_block_video() { return Shape{2, 8, 64, 32, 32}; }

/// Every weight is redrawn from U(-range, range) after the block's own
/// initialisation, so that zero-initialised output projections (every
/// mixer starts as the identity) do not make the backward trivially cheap.
inline constexpr double block_weight_range = 0.1;

/// Attention heads of the attention mixers' cases.
inline constexpr std::int64_t block_case_heads = 4;

/// Joint attention over all T·H·W tokens holds a [heads, L, L] matrix per
/// video: at 32×32 that is L = 8192 (1 GiB of float32 scores per video),
/// so its case runs on frames of at most this many pixels a side.
inline constexpr std::int64_t spatiotemporal_max_side = 8;

/// A block of type Block built from `options`, its weights randomised, on a
/// uniform input video. Leaves: the video and every parameter.
template <class Block, class Options>
BenchCase block_case_of(std::string name, std::string description, const Options& options, const Shape& video) {
    BenchCase c;
    c.name = std::move(name);
    c.description = fmt::format("{}, x {}", description, video);
    {
        Generator gen(1234);
        const Block probe(options, gen);
        c.params = probe.params();
        c.flops = probe.flops(video);
    }
    c.make = [options, video] {
        Generator gen(1234);
        auto block = std::make_shared<Block>(options, gen);
        block->visit_parameters(
            [&](const std::string&, Tensor& p) {
                const Tensor r = rand(p.shape(), gen, p.dtype(), -block_weight_range, block_weight_range);
                std::memcpy(p.raw_data(), r.raw_data(), p.nbytes());
            },
            "");
        const Tensor x = rand(video, gen, DType::Float32, -1.0, 1.0);
        std::vector<Tensor> leaves{x};
        block->visit_parameters([&](const std::string&, Tensor& p) { leaves.push_back(p); }, "");
        return Workload{leaves, [block, x] { return block->forward(x); }, {}};
    };
    return c;
}

namespace detail {

/// Called by the catalog with the block type that a name stands for.
template <class Options>
struct BlockCaseForType {
    std::string name;
    std::string description;
    Options options;
    Shape video;
    BenchCase* out;
    template <class Block>
    void operator()() const {
        *out = block_case_of<Block>(name, description, options, video);
    }
};

inline temporal::ConvStageOptions block_stage_options(const Shape& video) {
    temporal::ConvStageOptions stage;
    stage.in_channels = video[2];
    stage.out_channels = video[2];
    stage.temporal_kernel = 3;
    stage.max_frames = video[1];
    return stage;
}

inline temporal::MixerOptions block_mixer_options(const Shape& video) {
    temporal::MixerOptions mixer;
    mixer.channels = video[2];
    mixer.heads = block_case_heads;
    return mixer;
}

inline BenchCase stage_case(std::string name, std::string_view stage, std::string description, const Shape& video) {
    BenchCase c;
    temporal::visit_conv_stage(stage, BlockCaseForType<temporal::ConvStageOptions>{
                                          std::move(name), std::move(description), block_stage_options(video), video, &c});
    return c;
}

inline BenchCase mixer_case(std::string name, std::string_view mixer, std::string_view position,
                            std::string description, const Shape& video) {
    BenchCase c;
    temporal::visit_mixer(mixer, position, BlockCaseForType<temporal::MixerOptions>{
                                               std::move(name), std::move(description), block_mixer_options(video),
                                               video, &c});
    return c;
}

inline std::string channels_text(const Shape& video) { return fmt::format("{0} -> {0}", video[2]); }

struct BlockCaseEntry {
    std::string_view name;
    BenchCase (*make)(const Shape& video);
};

/// The cases in the order they run: the conv stages, then the mixers.
inline const std::vector<BlockCaseEntry>& block_case_table() {
    static const std::vector<BlockCaseEntry> table = {
        {"frame_conv",
         [](const Shape& v) {
             return stage_case("frame_conv", "FrameConv", "FrameConv 3x3, " + channels_text(v), v);
         }},
        {"conv3d",
         [](const Shape& v) { return stage_case("conv3d", "Conv3D", "Conv3D 3x3x3, " + channels_text(v), v); }},
        {"conv2plus1d",
         [](const Shape& v) {
             return stage_case("conv2plus1d", "Conv2Plus1D", "Conv2Plus1D 3x3 then kt 3, " + channels_text(v), v);
         }},
        {"adapter_conv2d",
         [](const Shape& v) {
             return stage_case("adapter_conv2d", "AdapterConv2D",
                               fmt::format("AdapterConv2D 3x3, Tmax {}, {}", v[1], channels_text(v)), v);
         }},
        {"temporal_attention",
         [](const Shape& v) {
             return mixer_case("temporal_attention", "TemporalAttention", "NoPosition",
                               fmt::format("TemporalAttention, NoPosition, heads {}", block_case_heads), v);
         }},
        {"temporal_attention_rope",
         [](const Shape& v) {
             return mixer_case("temporal_attention_rope", "TemporalAttention", "RoPE",
                               fmt::format("TemporalAttention, RoPE, heads {}", block_case_heads), v);
         }},
        {"directed_attention",
         [](const Shape& v) {
             return mixer_case("directed_attention", "DirectedAttention", "NoPosition",
                               fmt::format("DirectedAttention, NoPosition, heads {}, pre-softmax mask",
                                           block_case_heads),
                               v);
         }},
        {"spatiotemporal_attention",
         [](const Shape& v) {
             const std::int64_t h = std::min(v[3], spatiotemporal_max_side);
             const std::int64_t w = std::min(v[4], spatiotemporal_max_side);
             return mixer_case("spatiotemporal_attention", "SpatioTemporalAttention", "NoPosition",
                               fmt::format("SpatioTemporalAttention, NoPosition, heads {}, {}x{} frames ({} tokens "
                                           "per video)",
                                           block_case_heads, h, w, v[1] * h * w),
                               Shape{v[0], v[1], v[2], h, w});
         }},
        {"conv_lstm", [](const Shape& v) { return mixer_case("conv_lstm", "ConvLSTM", "", "ConvLSTM 3x3", v); }},
        {"flow_warp",
         [](const Shape& v) { return mixer_case("flow_warp", "FlowWarp", "", "FlowWarp, flow head", v); }},
        {"tcn", [](const Shape& v) { return mixer_case("tcn", "TCN", "", "TCN 2 levels, kernel 3", v); }},
        {"frame_delta", [](const Shape& v) { return mixer_case("frame_delta", "FrameDelta", "", "FrameDelta", v); }},
    };
    return table;
}

inline void check_block_video(const Shape& video) {
    VGT_CHECK(video.rank() == 5, "block_case", "expected a video shape [B, T, C, H, W], found {}", video);
}

}  // namespace detail

/// The block cases' names, in the order block_cases() runs them.
inline std::vector<std::string> block_case_names() {
    std::vector<std::string> names;
    for (const auto& entry : detail::block_case_table()) names.emplace_back(entry.name);
    return names;
}

/// One block case on a video of shape `video`; an unknown name is an error
/// listing the valid ones.
inline BenchCase block_case(std::string_view name, const Shape& video) {
    detail::check_block_video(video);
    for (const auto& entry : detail::block_case_table())
        if (entry.name == name) return entry.make(video);
    throw Error(fmt::format("block_case: expected one of {}, found '{}'", fmt::join(block_case_names(), ", "), name));
}

/// Every block case on a video of shape `video`.
inline std::vector<BenchCase> block_cases(const Shape& video) {
    detail::check_block_video(video);
    std::vector<BenchCase> cases;
    for (const auto& entry : detail::block_case_table()) cases.push_back(entry.make(video));
    return cases;
}

}  // namespace vgt::bench
