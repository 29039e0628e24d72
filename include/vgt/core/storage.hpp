#pragma once
// Storage: one aligned, reference-counted block of memory. Tensors share it
// through std::shared_ptr, so views keep their storage alive.

#include <cstddef>
#include <cstring>
#include <memory>
#include <new>

#include "vgt/core/cuda_error.hpp"
#include "vgt/core/cuda_memory.hpp"
#include "vgt/core/device.hpp"
#include "vgt/core/error.hpp"
#include "vgt/core/host_allocator.hpp"
#include "vgt/core/host_memory.hpp"

namespace vgt {

class Storage {
public:
    Storage(std::size_t bytes, Device device) : bytes_(bytes), device_(device) {
        // Allocate at least one byte so that empty tensors still have a valid pointer.
        const std::size_t size = bytes == 0 ? 1 : bytes;
        if (device.is_cpu()) {
            data_ = allocate_host(size);
            detail::record_host_allocation(size);
            return;
        }
#if defined(VGT_WITH_CUDA)
        VGT_CUDA_CHECK(cudaSetDevice(device.index));  // names a missing device before any allocation
        data_ = cuda_allocator(device.index).allocate(size);
#else
        fail("Storage", "expected a CPU device (this build has no CUDA backend), found {}", device.str());
#endif
    }
    ~Storage() {
        if (device_.is_cpu()) {
            const std::size_t size = bytes_ == 0 ? 1 : bytes_;
            free_host(data_, size);
            detail::record_host_release(size);
            return;
        }
#if defined(VGT_WITH_CUDA)
        cuda_allocator(device_.index).deallocate(data_);
#endif
    }

    Storage(const Storage&) = delete;
    Storage& operator=(const Storage&) = delete;

    void* data() const { return data_; }
    std::size_t bytes() const { return bytes_; }
    Device device() const { return device_; }

    static std::shared_ptr<Storage> allocate(std::size_t bytes, Device device = Device::cpu()) {
        return std::make_shared<Storage>(bytes, device);
    }

private:
    void* data_ = nullptr;
    std::size_t bytes_ = 0;
    Device device_;
};

}  // namespace vgt
