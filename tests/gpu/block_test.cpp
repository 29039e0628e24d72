// Every temporal block of the catalog (temporal/catalog.hpp) on CUDA against
// the same block on the CPU: the output, the gradient of the input video and
// of every parameter, from identical weights. The weights are redrawn at
// random first: at initialisation most blocks are the identity, with zero
// output projections, which would hide most of their computation. A block
// whose forward or backward needs an operation without a CUDA kernel fails
// here with the error that names it. Sequential, which is not in the
// catalog, runs two pairs of them.

#include "support.hpp"

#include <map>
#include <string>
#include <vector>

#include <vgt/nn/parameters.hpp>
#include <vgt/ops/device_copy.hpp>
#include <vgt/temporal/catalog.hpp>
#include <vgt/temporal/sequential.hpp>

namespace vgt::test::block_test {

namespace {

const Device kGpu = Device::cuda(0);
// Dozens of float32 operations per block, as in model_test.cpp.
constexpr double kBlockTolerance = 1e-4;

Tensor on_cpu(const Tensor& t) { return to(detach(t), Device::cpu()); }

/// Redraws every parameter uniform in [-0.3, 0.3), the same values for a
/// block's CPU and CUDA twins (both still on the CPU here).
template <class Block>
void redraw_parameters(Block& cpu_block, Block& gpu_block) {
    std::map<std::string, Tensor> drawn;
    std::uint64_t seed = 1000;
    cpu_block.visit_parameters(
        [&](const std::string& name, Tensor& p) {
            p = test::random(p.shape(), seed++, -0.3, 0.3, p.dtype()).set_requires_grad(true);
            drawn.emplace(name, p);
        },
        "");
    gpu_block.visit_parameters([&](const std::string& name, Tensor& p) { p = clone(detach(drawn.at(name))); }, "");
    nn::move_parameters(gpu_block, kGpu);
    gpu_block.visit_parameters([&](const std::string&, Tensor& p) { p.set_requires_grad(true); }, "");
}

/// Forward and backward of the block on both devices, from one output gradient.
template <class Block, class Options>
void expect_block_same_as_cpu(const Options& options, const Shape& video_shape) {
    Generator cpu_gen(5), gpu_gen(5);
    Block cpu_block(options, cpu_gen);
    Block gpu_block(options, gpu_gen);
    redraw_parameters(cpu_block, gpu_block);

    const Tensor video = test::random(video_shape, 21, -1, 1, DType::Float32);
    const Tensor cpu_x = clone(video).set_requires_grad(true);
    const Tensor gpu_x = to(video, kGpu).set_requires_grad(true);
    const Tensor cpu_y = cpu_block.forward(cpu_x);
    const Tensor gpu_y = gpu_block.forward(gpu_x);
    REQUIRE(gpu_y.device() == kGpu);
    CHECK(test::max_relative_error(on_cpu(gpu_y), cpu_y) <= kBlockTolerance);

    const Tensor seed = test::random(cpu_y.shape(), 22, -1, 1, DType::Float32);
    backward(cpu_y, seed);
    backward(gpu_y, to(seed, kGpu));
    REQUIRE(gpu_x.grad().defined());
    CHECK(test::max_relative_error(on_cpu(gpu_x.grad()), cpu_x.grad()) <= kBlockTolerance);

    std::map<std::string, Tensor> gpu_params;
    for (const auto& [name, p] : nn::named_parameters(gpu_block)) gpu_params.emplace(name, p);
    for (const auto& [name, p] : nn::named_parameters(cpu_block)) {
        INFO("parameter " << name);
        const Tensor& q = gpu_params.at(name);
        REQUIRE(q.device() == kGpu);
        REQUIRE(q.grad().defined());
        CHECK(test::max_relative_error(on_cpu(q.grad()), p.grad()) <= kBlockTolerance);
    }
}

const Shape kVideo{2, 4, 8, 6, 5};  // [B, T, C, H, W]

}  // namespace

TEST_CASE("every conv stage on CUDA matches the CPU, forward and gradients", "[gpu][temporal]") {
    for (const std::string& name : temporal::conv_stage_names()) {
        INFO("conv stage " << name);
        temporal::visit_conv_stage(name, [&]<class Stage>() {
            const temporal::ConvStageOptions options{.in_channels = 8, .out_channels = 12, .max_frames = 8};
            expect_block_same_as_cpu<Stage>(options, kVideo);
        });
    }
}

TEST_CASE("every mixer on CUDA matches the CPU, forward and gradients", "[gpu][temporal]") {
    for (const std::string& name : temporal::mixer_names()) {
        const std::vector<std::string> positions =
            temporal::takes_position(name) ? temporal::position_names() : std::vector<std::string>{""};
        for (const std::string& position : positions) {
            INFO("mixer " << name << " " << position);
            temporal::visit_mixer(name, position, [&]<class Mixer>() {
                const temporal::MixerOptions options{.channels = 8, .heads = 2, .norm_groups = 4, .max_frames = 8};
                expect_block_same_as_cpu<Mixer>(options, kVideo);
            });
        }
    }
}

TEST_CASE("mixers in sequence on CUDA match the CPU, forward and gradients", "[gpu][temporal]") {
    const temporal::MixerOptions options{.channels = 8, .heads = 2, .norm_groups = 4, .max_frames = 8};
    expect_block_same_as_cpu<temporal::Sequential<temporal::FrameDelta, temporal::DirectedAttention<position::ALiBi>>>(
        options, kVideo);
    expect_block_same_as_cpu<temporal::Sequential<temporal::ConvLSTM, temporal::FlowWarp>>(options, kVideo);
}

}  // namespace vgt::test::block_test
