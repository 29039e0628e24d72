#pragma once
// Launchers compiled by nvcc (device_kernels.cu) for the GPU tests, which
// are plain C++. Each returns the CUDA status of its launch and
// synchronisation; pointers are device pointers.

#include <cstdint>

#include <cuda_runtime_api.h>

namespace vgt::test::gpu {

cudaError_t philox_uniform(std::uint64_t seed, std::uint64_t first, std::int64_t n, float* out);
cudaError_t philox_normal(std::uint64_t seed, std::uint64_t first, std::int64_t n, float* out);

enum class Pointwise { Neg, Relu, Exp, Sigmoid, Tanh, Silu, Gelu };
cudaError_t pointwise(Pointwise body, const float* in, float* out, std::int64_t n);

}  // namespace vgt::test::gpu
