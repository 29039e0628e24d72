#pragma once
// The CUDA twin of parallel_for: runs a VGT_HOST_DEVICE functor once per
// index of [0, n) as a grid. The point-wise bodies in vgt::kernels are the
// same ones the CPU launchers call, so both paths compute the same formula.
// Includes only the CUDA runtime, so that any .cu unit can use it.

#include <cstdint>

#include <cuda_runtime.h>

namespace vgt {

namespace cuda_detail {
template <class F>
__global__ void for_each_index(std::int64_t n, F f) {
    const std::int64_t stride = static_cast<std::int64_t>(blockDim.x) * gridDim.x;
    for (std::int64_t i = static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) f(i);
}
}  // namespace cuda_detail

/// Queues f(i) for every i in [0, n) on `stream` and returns the launch's
/// status (errors inside the kernel surface at the next synchronisation).
template <class F>
cudaError_t cuda_for(std::int64_t n, F f, cudaStream_t stream = nullptr) {
    if (n <= 0) return cudaSuccess;
    constexpr int kThreads = 256;
    // A grid-stride loop: enough blocks to fill the device, each looping.
    const std::int64_t blocks = (n + kThreads - 1) / kThreads;
    const int grid = static_cast<int>(blocks < 65535 * 8 ? blocks : 65535 * 8);
    cuda_detail::for_each_index<<<grid, kThreads, 0, stream>>>(n, f);
    return cudaGetLastError();
}

}  // namespace vgt
