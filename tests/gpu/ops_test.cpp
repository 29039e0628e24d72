// Operations on CUDA tensors against the same operations on the CPU: fresh
// random inputs each run (the seed is printed on failure), outputs and the
// gradient of every input compared element by element with the CPU's
// float64 result. float32 must agree within 1e-5 relative (absolute below
// magnitude 1), float64 within 1e-12.

#include "support.hpp"

#include <chrono>
#include <cstring>
#include <functional>

#include <vgt/core/bfloat16.hpp>
#include <vgt/cuda/launchers.hpp>
#include <vgt/ops/device_copy.hpp>
#include <vgt/ops/pixel_attention.hpp>

namespace vgt::test::ops_test {

namespace {

const Device kGpu = Device::cuda(0);

std::uint64_t fresh_seed() {
    static std::uint64_t next = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    return next++;
}

double tolerance(DType dtype) { return dtype == DType::Float64 ? 1e-12 : 1e-5; }

Tensor on_cpu(const Tensor& t) { return to(detach(t), Device::cpu()); }

/// The largest relative difference of a CUDA tensor from its CPU twin.
double max_relative_error_of(const Tensor& gpu, const Tensor& cpu) {
    return test::max_relative_error(on_cpu(gpu), cpu);
}

/// What the CUDA result is compared with: the CPU in float64, which keeps
/// the CPU's own float32 rounding out of the bound, or the CPU in the
/// inputs' own dtype, for results whose float32 rounding is larger than the
/// bound on either device.
enum class Reference { Float64, SameDType };

/// Runs f on CUDA copies of the inputs and, as the reference, on the CPU;
/// then backward from one random output gradient on both, and compares the
/// outputs and every input's gradient.
void expect_same_as_cpu(const std::vector<Tensor>& inputs, const std::function<Tensor(const std::vector<Tensor>&)>& f,
                        bool differentiate = true, Reference reference = Reference::Float64) {
    std::vector<Tensor> cpu, gpu;
    for (const Tensor& x : inputs) {
        const Tensor reference_input = reference == Reference::Float64 ? to(x, DType::Float64) : x;
        cpu.push_back(detach(reference_input).set_requires_grad(differentiate));
        gpu.push_back(to(detach(x), kGpu).set_requires_grad(differentiate));
    }
    const Tensor out_cpu = f(cpu);
    const Tensor out_gpu = f(gpu);
    REQUIRE(out_gpu.device() == kGpu);
    const double tol = tolerance(out_gpu.dtype());
    CHECK(max_relative_error_of(out_gpu, out_cpu) <= tol);
    if (!differentiate) return;
    const Tensor seed = test::random(out_cpu.shape(), fresh_seed(), -1, 1, out_gpu.dtype());
    backward(out_cpu, to(seed, out_cpu.dtype()));
    backward(out_gpu, to(seed, kGpu));
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        INFO("gradient of input " << i);
        REQUIRE(gpu[i].grad().defined());
        CHECK(gpu[i].grad().device() == kGpu);
        CHECK(max_relative_error_of(gpu[i].grad(), cpu[i].grad()) <= tol);
    }
}

Tensor uniform(const Shape& shape, double low = -2, double high = 2, DType dtype = DType::Float32) {
    const std::uint64_t seed = fresh_seed();
    UNSCOPED_INFO("input seed " << seed);
    return test::random(shape, seed, low, high, dtype);
}

}  // namespace

TEST_CASE("point-wise functions and their gradients on CUDA match the CPU", "[gpu][elementwise]") {
    using Unary = Tensor (*)(const Tensor&);
    const std::vector<std::pair<const char*, Unary>> anywhere = {
        {"neg", neg}, {"exp", exp}, {"sigmoid", sigmoid}, {"tanh", tanh}, {"relu", relu},
        {"silu", silu}, {"gelu", gelu}, {"abs", abs},
    };
    for (auto [name, op] : anywhere) {
        INFO(name);
        expect_same_as_cpu({uniform({3, 70, 5})}, [op](const auto& x) { return op(x[0]); });
    }
    const std::vector<std::pair<const char*, Unary>> positive = {{"log", log}, {"sqrt", sqrt}, {"rsqrt", rsqrt}};
    for (auto [name, op] : positive) {
        INFO(name);
        expect_same_as_cpu({uniform({257}, 0.5, 3)}, [op](const auto& x) { return op(x[0]); });
    }
    expect_same_as_cpu({uniform({64})}, [](const auto& x) { return clamp(x[0], -0.5, 0.7); });
    expect_same_as_cpu({uniform({64}, 0.5, 2)}, [](const auto& x) { return pow(x[0], 2.5); });
    expect_same_as_cpu({uniform({64})}, [](const auto& x) { return 3.0 * x[0] + 0.25; });
    expect_same_as_cpu({uniform({64}, 0.5, 2)}, [](const auto& x) { return 2.0 / x[0]; });
    SECTION("in float64") {
        expect_same_as_cpu({uniform({40, 3}, -2, 2, DType::Float64)}, [](const auto& x) { return silu(exp(x[0])); });
    }
    SECTION("on a contiguous view that starts off a 16-byte boundary") {
        expect_same_as_cpu({uniform({203})}, [](const auto& x) { return sigmoid(slice(x[0], 0, 1, 203)) * 3.0; });
    }
    SECTION("on a non-contiguous view") {
        expect_same_as_cpu({uniform({6, 9, 4})}, [](const auto& x) { return tanh(permute(x[0], {2, 0, 1})); });
    }
}

TEST_CASE("broadcast arithmetic on CUDA matches the CPU, gradients summed back to each shape", "[gpu][elementwise]") {
    const auto a = uniform({4, 1, 5}), b = uniform({3, 1});
    expect_same_as_cpu({a, b}, [](const auto& x) { return x[0] + x[1]; });
    expect_same_as_cpu({a, b}, [](const auto& x) { return x[0] - x[1]; });
    expect_same_as_cpu({a, b}, [](const auto& x) { return x[0] * x[1]; });
    expect_same_as_cpu({a, uniform({3, 1}, 0.5, 2)}, [](const auto& x) { return x[0] / x[1]; });
    SECTION("a transposed operand") {
        expect_same_as_cpu({uniform({8, 6}), uniform({6, 8})},
                           [](const auto& x) { return x[0] * transpose(x[1], 0, 1); });
    }
}

TEST_CASE("sums, means and copies on CUDA match the CPU", "[gpu][reduce]") {
    const auto x = uniform({5, 7, 33});
    expect_same_as_cpu({x}, [](const auto& v) { return sum(v[0]); });
    expect_same_as_cpu({x}, [](const auto& v) { return sum(v[0], {1}); });
    expect_same_as_cpu({x}, [](const auto& v) { return sum(v[0], {0, 2}, true); });
    expect_same_as_cpu({x}, [](const auto& v) { return mean(v[0], {2}); });
    expect_same_as_cpu({x}, [](const auto& v) { return contiguous(permute(v[0], {2, 0, 1})); });
    SECTION("rows long enough for a block each") {
        expect_same_as_cpu({uniform({3, 5000})}, [](const auto& v) { return sum(v[0], {1}); });
    }
    SECTION("one row of a million elements") {
        expect_same_as_cpu({uniform({1 << 20})}, [](const auto& v) { return sum(v[0]); });
    }
}

TEST_CASE("softmax and log-softmax on CUDA match the CPU", "[gpu][softmax]") {
    for (bool log : {false, true}) {
        INFO((log ? "log_softmax" : "softmax"));
        auto op = [log](const Tensor& x, int dim) { return log ? log_softmax(x, dim) : softmax(x, dim); };
        expect_same_as_cpu({uniform({6, 37}, -4, 4)}, [&](const auto& x) { return op(x[0], -1); });
        expect_same_as_cpu({uniform({3, 11, 9}, -4, 4)}, [&](const auto& x) { return op(x[0], 1); });
        expect_same_as_cpu({uniform({2, 3000}, -4, 4)}, [&](const auto& x) { return op(x[0], 1); });
    }
}

TEST_CASE("matrix products on CUDA (cuBLAS) match the CPU", "[gpu][matmul]") {
    expect_same_as_cpu({uniform({7, 5}), uniform({5, 3})}, [](const auto& x) { return matmul(x[0], x[1]); });
    SECTION("batched with broadcast batch dimensions") {
        expect_same_as_cpu({uniform({2, 1, 4, 6}), uniform({3, 6, 5})},
                           [](const auto& x) { return matmul(x[0], x[1]); });
    }
    SECTION("transposed operands read in place") {
        expect_same_as_cpu({uniform({9, 40}), uniform({17, 40})},
                           [](const auto& x) { return matmul(x[0], transpose(x[1], 0, 1)); });
        expect_same_as_cpu({uniform({40, 9}), uniform({40, 17})},
                           [](const auto& x) { return matmul(transpose(x[0], 0, 1), x[1]); });
    }
    SECTION("large enough for cuBLAS's blocked kernels") {
        expect_same_as_cpu({uniform({130, 257}, -1, 1), uniform({257, 190}, -1, 1)},
                           [](const auto& x) { return matmul(x[0], x[1]); });
    }
    SECTION("in float64") {
        expect_same_as_cpu({uniform({12, 31}, -1, 1, DType::Float64), uniform({31, 8}, -1, 1, DType::Float64)},
                           [](const auto& x) { return matmul(x[0], x[1]); });
    }
}

TEST_CASE("a small network step on CUDA matches the CPU end to end", "[gpu]") {
    // x·W + b, SiLU, attention-like softmax over a product, mean loss.
    expect_same_as_cpu({uniform({4, 16, 24}, -1, 1), uniform({24, 24}, -0.3, 0.3), uniform({24}, -0.1, 0.1)},
                       [](const auto& p) {
                           const Tensor h = silu(matmul(p[0], p[1]) + p[2]);
                           const Tensor weights = softmax(matmul(h, transpose(h, 1, 2)) * 0.2, -1);
                           return mean(square(matmul(weights, h)));
                       });
}

TEST_CASE("CUDA tensors fill, and misuse is an error that names what was found", "[gpu]") {
    const Tensor ones = Tensor::ones({3, 4}, DType::Float32, kGpu);
    CHECK(on_cpu(ones).to_vector<float>() == std::vector<float>(12, 1.0f));
    const Tensor cpu = uniform({3, 4}), gpu = to(uniform({3, 4}), kGpu);
    CHECK_THROWS_WITH(add(cpu, gpu), Catch::Contains("one device"));
    CHECK_THROWS_WITH(matmul(gpu, transpose(cpu, 0, 1)), Catch::Contains("one device"));
    // An operation without a CUDA kernel reports it instead of reading device memory.
    CHECK_THROWS_WITH(flow::gaussian_blur(gpu, 1.0), Catch::Contains("no CUDA kernel"));
}

TEST_CASE("convolutions on CUDA (cuDNN) match the CPU, gradients of input, weight and bias too", "[gpu][conv]") {
    SECTION("conv1d, strided and padded") {
        expect_same_as_cpu({uniform({2, 6, 19}), uniform({8, 6, 3}, -0.5, 0.5), uniform({8})}, [](const auto& p) {
            return conv1d(p[0], p[1], p[2], {.stride = {2}, .padding = {1}});
        });
    }
    SECTION("conv2d, 3x3 same padding") {
        expect_same_as_cpu({uniform({2, 16, 12, 10}), uniform({24, 16, 3, 3}, -0.3, 0.3), uniform({24})},
                           [](const auto& p) { return conv2d(p[0], p[1], p[2], {.padding = {1}}); });
    }
    SECTION("conv2d, grouped and dilated, no bias") {
        expect_same_as_cpu({uniform({1, 8, 11, 13}), uniform({12, 4, 3, 3}, -0.3, 0.3)}, [](const auto& p) {
            return conv2d(p[0], p[1], {}, {.padding = {2}, .dilation = {2}, .groups = 2});
        });
    }
    SECTION("conv3d, 3x3x3 over frames") {
        expect_same_as_cpu({uniform({2, 8, 5, 9, 9}), uniform({8, 8, 3, 3, 3}, -0.2, 0.2), uniform({8})},
                           [](const auto& p) { return conv3d(p[0], p[1], p[2], {.padding = {1}}); });
    }
    SECTION("float64") {
        expect_same_as_cpu({uniform({1, 3, 7, 7}, -1, 1, DType::Float64), uniform({4, 3, 3, 3}, -1, 1, DType::Float64)},
                           [](const auto& p) { return conv2d(p[0], p[1]); });
    }
}

TEST_CASE("layer and group normalisation on CUDA match the CPU, with affine gradients", "[gpu][norm]") {
    SECTION("layer_norm over the last dimension") {
        expect_same_as_cpu({uniform({6, 9, 48}, -3, 5), uniform({48}, 0.5, 1.5), uniform({48})},
                           [](const auto& p) { return layer_norm(p[0], {48}, p[1], p[2]); });
    }
    SECTION("group_norm of a feature map, 4 groups") {
        expect_same_as_cpu({uniform({3, 16, 7, 6}, -3, 5), uniform({16}, 0.5, 1.5), uniform({16})},
                           [](const auto& p) { return group_norm(p[0], 4, p[1], p[2]); });
    }
    SECTION("group_norm without affine parameters, rows longer than a block") {
        expect_same_as_cpu({uniform({2, 8, 40, 40}, -1, 3)}, [](const auto& p) { return group_norm(p[0], 2); });
    }
}

TEST_CASE("nearest upsampling on CUDA matches the CPU", "[gpu][resample]") {
    expect_same_as_cpu({uniform({2, 3, 5, 7})}, [](const auto& x) { return upsample_nearest(x[0], 2); });
    expect_same_as_cpu({uniform({1, 2, 3, 4, 5})}, [](const auto& x) { return upsample_nearest(x[0], {1, 2, 3}); });
}

TEST_CASE("dropout on CUDA keeps the CPU's elements: the same Philox numbers on both devices", "[gpu][dropout]") {
    const Tensor x = uniform({4, 1000});
    Generator cpu_gen(7), gpu_gen(7);
    Tensor cpu_x = detach(x).set_requires_grad();
    Tensor gpu_x = to(detach(x), kGpu).set_requires_grad();
    const Tensor cpu_y = dropout(cpu_x, 0.3, cpu_gen);
    const Tensor gpu_y = dropout(gpu_x, 0.3, gpu_gen);
    REQUIRE(gpu_y.device() == kGpu);
    CHECK(on_cpu(gpu_y).to_vector<float>() == cpu_y.to_vector<float>());
    CHECK(gpu_gen.offset() == cpu_gen.offset());
    const Tensor seed = uniform({4, 1000});
    backward(cpu_y, seed);
    backward(gpu_y, to(seed, kGpu));
    REQUIRE(gpu_x.grad().device() == kGpu);
    CHECK(on_cpu(gpu_x.grad()).to_vector<float>() == cpu_x.grad().to_vector<float>());
}

TEST_CASE("average pooling on CUDA matches the CPU in 1, 2 and 3 dimensions, overlapping windows too",
          "[gpu][pool]") {
    expect_same_as_cpu({uniform({2, 3, 11})}, [](const auto& x) { return avg_pool1d(x[0], 3, 2); });
    expect_same_as_cpu({uniform({2, 3, 9, 10})}, [](const auto& x) { return avg_pool2d(x[0], 2); });
    expect_same_as_cpu({uniform({1, 2, 5, 7, 6})}, [](const auto& x) { return avg_pool3d(x[0], 3, 1); });
    expect_same_as_cpu({uniform({1, 2, 6, 8}, -1, 1, DType::Float64)},
                       [](const auto& x) { return avg_pool(x[0], {3, 2}, {2, 1}); });
}

TEST_CASE("max and argmax on CUDA match the CPU along every dimension, gradients too", "[gpu][reduce]") {
    const Tensor x = uniform({3, 4, 5});
    for (int dim = 0; dim < 3; ++dim) {
        INFO("dim " << dim);
        expect_same_as_cpu({x}, [&](const auto& p) { return max(p[0], dim); });
        expect_same_as_cpu({x}, [&](const auto& p) { return max(p[0], dim, true); });
        CHECK(to(argmax(to(x, kGpu), dim), Device::cpu()).to_vector<std::int64_t>() ==
              argmax(x, dim).to_vector<std::int64_t>());
    }
    expect_same_as_cpu({uniform({6, 7}, -1, 1, DType::Float64)}, [](const auto& p) { return max(p[0]); });
    // Ties go to the first maximum on both devices.
    const Tensor ties = Tensor::from_vector(std::vector<float>{1, 3, 3, 0, 2, 2}, Shape{2, 3});
    CHECK(to(argmax(to(ties, kGpu), 1), Device::cpu()).to_vector<std::int64_t>() == std::vector<std::int64_t>{1, 1});
}

TEST_CASE("bilinear resizing on CUDA matches the CPU, up and down, with and without align_corners",
          "[gpu][resample]") {
    for (const bool align_corners : {false, true}) {
        INFO("align_corners " << align_corners);
        expect_same_as_cpu({uniform({2, 3, 5, 7})},
                           [&](const auto& x) { return upsample_bilinear(x[0], 11, 16, align_corners); });
        expect_same_as_cpu({uniform({1, 4, 12, 9})},
                           [&](const auto& x) { return upsample_bilinear(x[0], 5, 4, align_corners); });
        expect_same_as_cpu({uniform({2, 2, 6, 6}, -1, 1, DType::Float64)},
                           [&](const auto& x) { return upsample_bilinear(x[0], 13, 7, align_corners); });
    }
}

TEST_CASE("bilinear grid sampling and warping on CUDA match the CPU, gradients of image and grid too",
          "[gpu][resample]") {
    for (const GridPadding padding : {GridPadding::Zeros, GridPadding::Border}) {
        for (const bool align_corners : {false, true}) {
            INFO("border padding " << (padding == GridPadding::Border) << ", align_corners " << align_corners);
            // Points up to 20% past the edges, so that both paddings are
            // exercised. The grid's gradient depends on each point's position
            // within its cell, which float32 rounds to about 1e-6 of a pixel;
            // multiplied by pixel differences and the grid's scale, that
            // alone can exceed 1e-5 of the result on either device. So the
            // float32 runs are held to the CPU's float32 kernel, and the
            // float64 run below to the float64 one.
            expect_same_as_cpu(
                {uniform({2, 5, 7, 9}), uniform({2, 6, 8, 2}, -1.2, 1.2)},
                [&](const auto& p) { return grid_sample(p[0], p[1], {padding, align_corners}); }, true,
                Reference::SameDType);
        }
    }
    expect_same_as_cpu({uniform({3, 4, 10, 12}), uniform({3, 2, 10, 12}, -3, 3)},
                       [](const auto& p) { return warp(p[0], p[1]); }, true, Reference::SameDType);
    expect_same_as_cpu({uniform({1, 2, 6, 5}, -1, 1, DType::Float64), uniform({1, 4, 3, 2}, -1, 1, DType::Float64)},
                       [](const auto& p) { return grid_sample(p[0], p[1]); });
}

namespace {

struct AttentionCase {
    const char* name;
    Shape qkv;  // [B, T, 3C, H, W]
    std::int64_t heads;
    bool with_bias, with_rotary;
    FusedAttentionMask mask;
};

/// Rotary tables of `frames` × `pairs`, different for queries and keys (as XPos's are).
PixelRotary random_rotary(std::int64_t frames, std::int64_t pairs, DType dtype, Device device) {
    auto table = [&] { return to(to(uniform({frames, pairs}, -1.2, 1.2), dtype), device); };
    return {table(), table(), table(), table()};
}

PixelRotary rotary_as(const PixelRotary& r, DType dtype, Device device) {
    auto as = [&](const Tensor& t) { return to(to(t, dtype), device); };
    return {as(r.cos_q), as(r.sin_q), as(r.cos_k), as(r.sin_k)};
}

/// float32 values rounded to bfloat16, as the raw bytes of a uint8 tensor
/// on `device`; `rounded` receives their values.
Tensor bfloat16_bytes(const Tensor& values, std::vector<double>& rounded, Device device) {
    const std::vector<float> v = to(values, DType::Float32).to_vector<float>();
    Tensor bytes = Tensor::empty(Shape{2 * static_cast<std::int64_t>(v.size())}, DType::UInt8);
    rounded.resize(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) {
        const std::uint16_t bits = bfloat16_bits(v[i]);
        std::memcpy(bytes.data<std::uint8_t>() + 2 * i, &bits, 2);
        rounded[i] = bfloat16_value(bits);
    }
    return to(bytes, device);
}

/// The values of bfloat16 raw bytes on any device, as a float64 CPU tensor of `shape`.
Tensor from_bfloat16_bytes(const Tensor& bytes, const Shape& shape) {
    const Tensor host = to(bytes, Device::cpu());
    std::vector<double> values(static_cast<std::size_t>(shape.numel()));
    for (std::size_t i = 0; i < values.size(); ++i) {
        std::uint16_t bits = 0;
        std::memcpy(&bits, host.data<std::uint8_t>() + 2 * i, 2);
        values[i] = bfloat16_value(bits);
    }
    return Tensor::from_vector(values, shape);
}

}  // namespace

TEST_CASE("pixel attention on CUDA (fused kernels) matches the CPU: bias, masks, rotary tables, up to 64 frames",
          "[gpu][attention]") {
    const std::vector<AttentionCase> cases = {
        {"8 frames, bias, causal, a partial pixel tile", {2, 8, 48, 5, 7}, 2, true, false, {.causal = true}},
        {"16 frames, post-softmax mask", {1, 16, 24, 6, 6}, 2, false, false, {.causal = true, .post_softmax = true}},
        {"3 frames, rotary and bias", {2, 3, 24, 4, 9}, 2, true, true, {}},
        {"20 frames (several query tiles), causal, rotary", {1, 20, 24, 3, 11}, 1, false, true, {.causal = true}},
        {"40 frames, bias", {1, 40, 12, 2, 17}, 2, true, false, {}},
        {"odd head size", {2, 5, 18, 3, 3}, 2, true, false, {.causal = true}},
        {"one frame", {2, 1, 12, 4, 4}, 2, false, true, {.causal = true}},
    };
    for (const DType dtype : {DType::Float32, DType::Float64}) {
        for (const AttentionCase& c : cases) {
            INFO(c.name << ", " << dtype_name(dtype));
            const std::int64_t frames = c.qkv[1], d = c.qkv[2] / 3 / c.heads;
            const PixelRotary rotary = c.with_rotary ? random_rotary(frames, d / 2, dtype, Device::cpu()) : PixelRotary{};
            const Tensor qkv = uniform(c.qkv, -2, 2, dtype);
            const std::vector<Tensor> inputs =
                c.with_bias ? std::vector<Tensor>{qkv, uniform({c.heads, frames, frames}, -1, 1, dtype)}
                            : std::vector<Tensor>{qkv};
            expect_same_as_cpu(inputs, [&](const std::vector<Tensor>& t) {
                const Tensor bias = c.with_bias ? t[1] : Tensor{};
                const PixelRotary r = c.with_rotary ? rotary_as(rotary, t[0].dtype(), t[0].device()) : PixelRotary{};
                return pixel_attention(t[0], c.heads, bias, c.mask, r);
            });
        }
    }
    CHECK_THROWS_WITH(pixel_attention(to(uniform({1, 65, 6, 2, 2}), kGpu), 1),
                      Catch::Contains("at most 64 frames on CUDA") && Catch::Contains("65"));
}

TEST_CASE("pixel attention's bfloat16 kernels on CUDA match float64 within 1e-2, gradients too", "[gpu][attention]") {
    // Up to 16 frames without rotary tables, the forward pass runs on tensor
    // cores, loading two pixels a lane where the pixel count is even; the
    // rest take the scalar kernels, as does every backward pass.
    const std::vector<AttentionCase> cases = {
        {"16 frames, bias, causal, 42 pixels", {2, 16, 192, 6, 7}, 2, true, false, {.causal = true}},
        {"5 frames, odd head size, post-softmax mask, 33 pixels", {1, 5, 54, 3, 11}, 2, true, false,
         {.causal = true, .post_softmax = true}},
        {"one frame, 40 channels (a partial step), 25 pixels", {2, 1, 120, 5, 5}, 1, false, false, {}},
        {"12 frames, 48 channels, two pixel tiles of 64, bias", {1, 12, 288, 10, 10}, 2, true, false, {}},
        {"8 frames, 81 pixels, causal", {1, 8, 96, 9, 9}, 2, false, false, {.causal = true}},
        {"16 frames, rotary (the scalar kernels)", {2, 16, 192, 6, 7}, 2, true, true, {.causal = true}},
        {"20 frames (the scalar kernels)", {1, 20, 96, 4, 5}, 2, true, true, {.causal = true}},
    };
    for (const AttentionCase& c : cases) {
        INFO(c.name);
        const std::int64_t batch = c.qkv[0], frames = c.qkv[1], channels = c.qkv[2] / 3, heads = c.heads;
        const std::int64_t pixels = c.qkv[3] * c.qkv[4], d = channels / heads;
        const Shape qkv_shape = c.qkv, out_shape{batch, frames, channels, c.qkv[3], c.qkv[4]};
        std::vector<double> qkv_values, grad_values;
        const Tensor qkv = bfloat16_bytes(uniform(qkv_shape), qkv_values, kGpu);
        const Tensor grad = bfloat16_bytes(uniform(out_shape, -1, 1), grad_values, kGpu);
        const Tensor bias = uniform({heads, frames, frames}, -1, 1);
        const PixelRotary rotary = random_rotary(frames, d / 2, DType::Float32, Device::cpu());
        const Tensor table = to(concat({rotary.cos_q, rotary.sin_q, rotary.cos_k, rotary.sin_k}, 0), kGpu);
        const Tensor bias_gpu = to(bias, kGpu);
        const cuda::PixelAttentionShape shape{batch,  frames, channels, heads, pixels,
                                              1.0 / std::sqrt(static_cast<double>(d)), c.mask.causal,
                                              c.mask.post_softmax};

        Tensor out = Tensor::empty(Shape{2 * out_shape.numel()}, DType::UInt8, kGpu);
        Tensor lse = Tensor::empty(Shape{batch, heads, frames, pixels}, DType::Float32, kGpu);
        Tensor dqkv = Tensor::empty(Shape{2 * qkv_shape.numel()}, DType::UInt8, kGpu);
        Tensor dbias = Tensor::empty(Shape{heads, frames, frames}, DType::Float32, kGpu);
        Tensor workspace = Tensor::empty(Shape{2, batch, heads, frames, frames, pixels}, DType::Float32, kGpu);
        const void* bias_data = c.with_bias ? bias_gpu.raw_data() : nullptr;
        const void* table_data = c.with_rotary ? table.raw_data() : nullptr;
        const cuda::Status forward = cuda::pixel_attention_forward(
            cuda::AttentionStorage::BFloat16, shape, qkv.raw_data(), bias_data, table_data, out.raw_data(),
            lse.raw_data());
        REQUIRE(forward.ok());
        const cuda::Status backward_status = cuda::pixel_attention_backward(
            cuda::AttentionStorage::BFloat16, shape, qkv.raw_data(), bias_data, table_data, lse.raw_data(),
            grad.raw_data(), dqkv.raw_data(), c.with_bias ? dbias.raw_data() : nullptr, workspace.raw_data());
        REQUIRE(backward_status.ok());

        // The reference: the CPU's float64 route on the same (rounded) values.
        Tensor x = Tensor::from_vector(qkv_values, qkv_shape).set_requires_grad();
        Tensor b = to(bias, DType::Float64).set_requires_grad();
        const Tensor y = pixel_attention(x, heads, c.with_bias ? b : Tensor{}, c.mask,
                                         c.with_rotary ? rotary_as(rotary, DType::Float64, Device::cpu())
                                                       : PixelRotary{});
        backward(y, Tensor::from_vector(grad_values, out_shape));
        CHECK(max_relative_error(from_bfloat16_bytes(out, out_shape), y) <= 1e-2);
        CHECK(max_relative_error(from_bfloat16_bytes(dqkv, qkv_shape), x.grad()) <= 1e-2);
        if (c.with_bias) CHECK(max_relative_error(to(to(dbias, Device::cpu()), DType::Float64), b.grad()) <= 1e-2);
    }
}

TEST_CASE("AdamW steps on CUDA match the CPU's", "[gpu][optim]") {
    for (const bool amsgrad : {false, true}) {
        INFO("amsgrad " << amsgrad);
        const Tensor start = uniform({1000}), slope = uniform({1000}, -1, 1);
        Tensor cpu_p = detach(start).set_requires_grad();
        Tensor gpu_p = to(detach(start), kGpu).set_requires_grad();
        const optim::NamedTensors cpu_named{{"p", cpu_p}}, gpu_named{{"p", gpu_p}};
        optim::AdamW cpu_opt(cpu_named, {.lr = 0.05, .amsgrad = amsgrad});
        optim::AdamW gpu_opt(gpu_named, {.lr = 0.05, .amsgrad = amsgrad});
        for (int step = 0; step < 3; ++step) {
            // The gradient of sum(p · slope · (step + 1)) is the same on both devices, exactly.
            cpu_p.zero_grad();
            gpu_p.zero_grad();
            backward(sum(cpu_p * (slope * double(step + 1))));
            backward(sum(gpu_p * to(slope * double(step + 1), kGpu)));
            cpu_opt.step(cpu_named, 0.05);
            gpu_opt.step(gpu_named, 0.05);
        }
        CHECK(max_relative_error_of(gpu_p, cpu_p) <= 1e-6);
    }
}

TEST_CASE("embedding lookups on CUDA match the CPU, repeated indices summing their gradients", "[gpu][embedding]") {
    const Tensor index = Tensor::from_vector(std::vector<std::int64_t>{3, 0, 3, 7, 1, 3, 0, 9}, Shape{2, 4});
    const Tensor table = uniform({10, 6});
    Tensor cpu_table = detach(table).set_requires_grad();
    Tensor gpu_table = to(detach(table), kGpu).set_requires_grad();
    const Tensor cpu_out = embedding(cpu_table, index);
    const Tensor gpu_out = embedding(gpu_table, to(index, kGpu));
    CHECK(max_relative_error_of(gpu_out, cpu_out) == 0.0);
    const Tensor seed = uniform({2, 4, 6});
    backward(cpu_out, seed);
    backward(gpu_out, to(seed, kGpu));
    CHECK(max_relative_error_of(gpu_table.grad(), cpu_table.grad()) <= 1e-6);
    CHECK_THROWS_WITH(embedding(gpu_table, to(Tensor::from_vector(std::vector<std::int64_t>{10}), kGpu)),
                      Catch::Contains("found index 10"));
}

}  // namespace vgt::test::ops_test
