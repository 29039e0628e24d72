#pragma once
// Storage: one aligned, reference-counted block of memory. Tensors share it
// through std::shared_ptr, so views keep their storage alive.

#include <cstddef>
#include <cstring>
#include <memory>
#include <new>

#include "vgt/core/device.hpp"
#include "vgt/core/error.hpp"

namespace vgt {

/// 64 bytes: a cache line, and enough for AVX-512 loads.
inline constexpr std::size_t kStorageAlignment = 64;

class Storage {
public:
    Storage(std::size_t bytes, Device device) : bytes_(bytes), device_(device) {
        VGT_CHECK(device.is_cpu(), "Storage", "expected a CPU device (this build has no CUDA allocator), found {}",
                  device.str());
        // Allocate at least one byte so that empty tensors still have a valid pointer.
        data_ = ::operator new(bytes == 0 ? 1 : bytes, std::align_val_t{kStorageAlignment});
    }
    ~Storage() { ::operator delete(data_, std::align_val_t{kStorageAlignment}); }

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
