#pragma once
// Device memory for CUDA tensors: one CachingAllocator per GPU over
// cudaMalloc/cudaFree. Defined only in builds with the CUDA toolkit.

#include "vgt/core/caching_allocator.hpp"
#include "vgt/core/cuda_error.hpp"
#include "vgt/core/device.hpp"

#if defined(VGT_WITH_CUDA)
#include <memory>
#include <mutex>
#include <unordered_map>

namespace vgt {

/// The raw allocator of one GPU.
struct CudaDeviceMemory {
    int device = 0;
    void* allocate(std::size_t bytes) const {
        void* block = nullptr;
        if (cudaSetDevice(device) != cudaSuccess || cudaMalloc(&block, bytes) != cudaSuccess) {
            (void)cudaGetLastError();  // out of memory is reported by the caching allocator
            return nullptr;
        }
        return block;
    }
    void release(void* block) const {
        cudaSetDevice(device);
        cudaFree(block);
    }
};

using CudaAllocator = CachingAllocator<CudaDeviceMemory>;

/// The allocator of GPU `device`. Allocators live until the process ends
/// (never destroyed), so tensors freed during static destruction are safe.
inline CudaAllocator& cuda_allocator(int device) {
    static std::mutex mutex;
    static auto* allocators = new std::unordered_map<int, std::unique_ptr<CudaAllocator>>();
    std::lock_guard<std::mutex> lock(mutex);
    auto& slot = (*allocators)[device];
    if (!slot) slot = std::make_unique<CudaAllocator>(CudaDeviceMemory{device});
    return *slot;
}

/// Bytes in use, peak and cached on a GPU, and how often the cache served.
inline AllocatorStats memory_stats(Device device) {
    VGT_CHECK(device.is_cuda(), "memory_stats", "expected a CUDA device, found {}", device.str());
    return cuda_allocator(device.index).stats();
}

}  // namespace vgt
#endif
