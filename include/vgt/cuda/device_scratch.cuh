#pragma once
// Temporary device memory for the CUDA backend's own kernels and for
// cuDNN's workspaces: one buffer per device that grows to the largest
// request and is kept. All of vgt's work runs on one stream, in order, so
// consecutive users never overlap. Read by backend.cu only.

#include <cstddef>
#include <mutex>
#include <unordered_map>
#include <utility>

#include <cuda_runtime.h>

#include "vgt/cuda/launchers.hpp"

namespace vgt::cuda {

/// At least `bytes` of device memory on `device`, valid until the next call.
inline Status device_scratch(int device, std::size_t bytes, void** data) {
    static std::mutex mutex;
    static auto* buffers = new std::unordered_map<int, std::pair<void*, std::size_t>>();
    std::lock_guard<std::mutex> lock(mutex);
    auto& [buffer, size] = (*buffers)[device];
    if (bytes > size) {
        // cudaFree waits for queued work, so no kernel still reads the old buffer.
        if (buffer) cudaFree(buffer);
        buffer = nullptr;
        size = 0;
        if (cudaMalloc(&buffer, bytes) != cudaSuccess) {
            (void)cudaGetLastError();
            return {"cudaMalloc (scratch)", "out of device memory"};
        }
        size = bytes;
    }
    *data = buffer;
    return {};
}

}  // namespace vgt::cuda
