// GPU tests: run by tools/device-check on a machine with an NVIDIA GPU. CI
// builds them (compiling and linking the CUDA units) but has no GPU to run
// them on, so they are not registered with ctest. Every test needs a device
// and fails, naming the reason, when there is none.

#include "support.hpp"

#include <cstring>

#include <vgt/ops/device_copy.hpp>

#include "gpu/device_kernels.hpp"

namespace vgt::test::device_test {

namespace {

void require_device() {
    int count = 0;
    const cudaError_t status = cudaGetDeviceCount(&count);
    INFO("cudaGetDeviceCount: " << cudaGetErrorString(status));
    REQUIRE(status == cudaSuccess);
    REQUIRE(count > 0);
}

void require_success(cudaError_t status) {
    INFO("CUDA: " << cudaGetErrorName(status) << " " << cudaGetErrorString(status));
    REQUIRE(status == cudaSuccess);
}

std::int64_t bitwise_differences(const std::vector<float>& a, const std::vector<float>& b) {
    std::int64_t count = 0;
    for (std::size_t i = 0; i < a.size(); ++i) count += std::memcmp(&a[i], &b[i], sizeof(float)) != 0;
    return count;
}

}  // namespace

TEST_CASE("the device is visible and described", "[gpu]") {
    require_device();
    cudaDeviceProp prop{};
    require_success(cudaGetDeviceProperties(&prop, 0));
    WARN("device 0: " << prop.name << ", " << prop.multiProcessorCount << " SMs, compute capability " << prop.major
                      << "." << prop.minor << ", " << (prop.totalGlobalMem >> 20) << " MiB");
    CHECK(prop.major >= 7);
}

TEST_CASE("tensors travel to the GPU and back unchanged", "[gpu]") {
    require_device();
    Tensor x = vgt::test::random({3, 5, 7}, 1, -1, 1, DType::Float32);
    Tensor on_gpu = to(x, Device::cuda(0));
    CHECK(on_gpu.device() == Device::cuda(0));
    CHECK(to(on_gpu, Device::cpu()).to_vector<float>() == x.to_vector<float>());
    // A strided CPU view is made contiguous on the way.
    Tensor t = transpose(x, 0, 2);
    CHECK(to(to(t, Device::cuda(0)), Device::cpu()).to_vector<float>() == t.to_vector<float>());
    CHECK(to(Tensor::zeros({1000}, DType::Float32, Device::cuda(0)), Device::cpu()).to_vector<float>() ==
          std::vector<float>(1000, 0.0f));
    CHECK_THROWS_WITH(on_gpu.to_vector<float>(), Catch::Contains("cuda:0"));
    // Operations without a CUDA kernel refuse device memory rather than read it.
    CHECK_THROWS_WITH(flow::gaussian_blur(reshape(on_gpu, {3, 5, 7}), 1.0),
                      Catch::Contains("gaussian_blur") && Catch::Contains("cuda:0"));
    // Joining is strided copies, which run on the device.
    CHECK(to(concat({on_gpu, on_gpu}, 0), Device::cpu()).to_vector<float>() == concat({x, x}, 0).to_vector<float>());
    CHECK_THROWS_WITH(Tensor::empty({1}, DType::Float32, Device::cuda(99)), Catch::Contains("cudaSetDevice"));
}

TEST_CASE("gradients flow back across a device copy", "[gpu]") {
    require_device();
    Tensor x = vgt::test::random({4}, 2).set_requires_grad();
    Tensor y = to(to(x, Device::cuda(0)), Device::cpu());
    backward(sum(y * 3.0));
    CHECK(x.grad().to_vector() == std::vector<double>{3, 3, 3, 3});
}

TEST_CASE("Philox uniforms on the GPU are bit-identical to the CPU's", "[gpu][random]") {
    require_device();
    const std::int64_t n = 1 << 20;
    Generator cpu_gen(77, 5);  // an offset that is not a multiple of 4
    const Tensor cpu = rand({n}, cpu_gen);
    Tensor out = Tensor::empty({n}, DType::Float32, Device::cuda(0));
    require_success(gpu::philox_uniform(77, 5, n, out.data<float>()));
    CHECK(bitwise_differences(cpu.to_vector<float>(), to(out, Device::cpu()).to_vector<float>()) == 0);
}

TEST_CASE("Philox normals on the GPU match the CPU's", "[gpu][random]") {
    require_device();
    const std::int64_t n = 1 << 20;
    Generator cpu_gen(78, 3);
    const Tensor cpu = randn({n}, cpu_gen);
    Tensor out = Tensor::empty({n}, DType::Float32, Device::cuda(0));
    require_success(gpu::philox_normal(78, 3, n, out.data<float>()));
    const Tensor got = to(out, Device::cpu());
    const std::int64_t differing = bitwise_differences(cpu.to_vector<float>(), got.to_vector<float>());
    const double worst = vgt::test::max_relative_error(got, cpu);
    WARN("normals differing in any bit: " << differing << " of " << n << ", largest relative difference " << worst);
    CHECK(worst <= 1e-5);
    CHECK(differing == 0);
}

TEST_CASE("point-wise kernel bodies give the CPU's results on the GPU", "[gpu][elementwise]") {
    require_device();
    const std::int64_t n = 100000;
    const Tensor x = vgt::test::random({n}, 3, -4, 4, DType::Float32);
    const Tensor x_gpu = to(x, Device::cuda(0));
    const std::vector<std::tuple<gpu::Pointwise, Tensor (*)(const Tensor&), const char*, double>> cases = {
        {gpu::Pointwise::Neg, [](const Tensor& t) { return neg(t); }, "neg", 0.0},
        {gpu::Pointwise::Relu, [](const Tensor& t) { return relu(t); }, "relu", 0.0},
        {gpu::Pointwise::Exp, [](const Tensor& t) { return exp(t); }, "exp", 1e-6},
        {gpu::Pointwise::Sigmoid, [](const Tensor& t) { return sigmoid(t); }, "sigmoid", 1e-6},
        {gpu::Pointwise::Tanh, [](const Tensor& t) { return tanh(t); }, "tanh", 1e-6},
        {gpu::Pointwise::Silu, [](const Tensor& t) { return silu(t); }, "silu", 1e-6},
        {gpu::Pointwise::Gelu, [](const Tensor& t) { return gelu(t); }, "gelu", 1e-6},
    };
    for (const auto& [body, cpu_op, name, tolerance] : cases) {
        INFO(name);
        Tensor out = Tensor::empty({n}, DType::Float32, Device::cuda(0));
        require_success(gpu::pointwise(body, x_gpu.data<float>(), out.data<float>(), n));
        CHECK(vgt::test::max_relative_error(to(out, Device::cpu()), cpu_op(x)) <= tolerance);
    }
}

TEST_CASE("freed device memory is reused, and the allocator's stats follow", "[gpu][memory]") {
    require_device();
    const AllocatorStats before = memory_stats(Device::cuda(0));
    for (int step = 0; step < 50; ++step) {
        Tensor a = Tensor::zeros({256, 1024}, DType::Float32, Device::cuda(0));  // 1 MiB
        Tensor b = Tensor::zeros({1000}, DType::Float32, Device::cuda(0));
        const AllocatorStats during = memory_stats(Device::cuda(0));
        REQUIRE(during.bytes_in_use >= before.bytes_in_use + (std::size_t{1} << 20) + 4000);
    }
    const AllocatorStats after = memory_stats(Device::cuda(0));
    CHECK(after.raw_allocations - before.raw_allocations <= 2);  // the first step's two blocks at most
    CHECK(after.reuses - before.reuses >= 98);
    CHECK(after.bytes_in_use == before.bytes_in_use);
    CHECK(after.peak_bytes_in_use >= before.bytes_in_use + (std::size_t{1} << 20));
}

}  // namespace vgt::test::device_test
