// Whole models on CUDA against the same models on the CPU: every UNet
// preset's loss and the gradient of every parameter, from identical weights
// and inputs. Errors compound through dozens of
// operations, so the bound is 1e-4 relative (absolute below magnitude 1)
// where single operations are held to 1e-5.

#include "support.hpp"

#include <map>
#include <string>

#include <vgt/models/unet_presets.hpp>
#include <vgt/models/video_unet.hpp>
#include <vgt/ops/device_copy.hpp>

namespace vgt::test::model_test {

namespace {

const Device kGpu = Device::cuda(0);
constexpr double kModelTolerance = 1e-4;

models::VideoUNetOptions small_unet() {
    models::VideoUNetOptions o;
    o.in_channels = 3;
    o.out_channels = 3;
    o.base_channels = 8;
    o.channel_mult = {1, 2};
    o.res_blocks = 1;
    o.attention_levels = {1};
    o.heads = 2;
    o.context_dim = 6;
    o.time_embed_dim = 16;
    o.temporal_heads = 2;
    o.max_frames = 8;
    return o;
}

Tensor on_cpu(const Tensor& t) { return to(detach(t), Device::cpu()); }

std::map<std::string, Tensor> parameters_of(const auto& block) {
    std::map<std::string, Tensor> out;
    for (const auto& [name, p] : nn::named_parameters(block)) out.emplace(name, p);
    return out;
}

/// The loss of one training step: mean squared output.
template <class UNet>
Tensor step_loss(const UNet& unet, const Tensor& x, const Tensor& time, const Tensor& context, const Tensor& mask) {
    return mean(square(unet.forward(x, time, context, mask)));
}

}  // namespace

TEMPLATE_TEST_CASE("a UNet training step on CUDA matches the CPU: the loss and every gradient", "[gpu][models]",
                   models::ImageUNet, models::MagicVideoUNet, models::Gen1UNet, models::VDMUNet, models::Conv3DUNet) {
    const models::VideoUNetOptions o = small_unet();
    Generator cpu_gen(11), gpu_gen(11);
    TestType cpu_unet(o, cpu_gen, DType::Float32);
    TestType gpu_unet(o, gpu_gen, DType::Float32);
    nn::move_parameters(gpu_unet, kGpu);

    const Tensor x = test::random({2, 4, 3, 16, 16}, 3, -1, 1, DType::Float32);
    const Tensor time = test::random({2, 16}, 4, -1, 1, DType::Float32);
    const Tensor context = test::random({2, 5, 6}, 5, -1, 1, DType::Float32);
    const Tensor mask = Tensor::from_vector(std::vector<std::int64_t>{1, 1, 1, 1, 1, 1, 1, 1, 0, 0}, Shape{2, 5});

    const Tensor cpu_loss = step_loss(cpu_unet, x, time, context, mask);
    const Tensor gpu_loss = step_loss(gpu_unet, to(x, kGpu), to(time, kGpu), to(context, kGpu), to(mask, kGpu));
    REQUIRE(gpu_loss.device() == kGpu);
    CHECK(test::max_relative_error(on_cpu(gpu_loss), cpu_loss) <= kModelTolerance);
    backward(cpu_loss);
    backward(gpu_loss);

    const auto cpu_params = parameters_of(cpu_unet), gpu_params = parameters_of(gpu_unet);
    REQUIRE(cpu_params.size() == gpu_params.size());
    for (const auto& [name, p] : cpu_params) {
        INFO(name);
        const Tensor& q = gpu_params.at(name);
        REQUIRE(q.grad().defined());
        CHECK(test::max_relative_error(on_cpu(q.grad()), p.grad()) <= kModelTolerance);
    }

}

}  // namespace vgt::test::model_test
