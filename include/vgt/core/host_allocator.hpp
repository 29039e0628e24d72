#pragma once
// Host memory for CPU tensors. Blocks of 64 KiB and more go through a
// CachingAllocator: a training step frees and allocates the same large
// activations every step, and without the cache each one is fresh pages
// from the kernel (glibc maps large blocks and gives them back on free),
// faulted in and zeroed on first touch, which cost about a tenth of a small
// UNet's training step. Smaller blocks come from the heap directly.
//
// At most host_cache_limit() bytes of freed blocks are kept (1 GiB unless
// set_host_cache_limit changes it; 0 turns the cache off).

#include <cstddef>
#include <new>

#include "vgt/core/caching_allocator.hpp"
#include "vgt/core/error.hpp"

namespace vgt {

/// 64 bytes: a cache line, and enough for AVX-512 loads.
inline constexpr std::size_t kStorageAlignment = 64;

/// Blocks below this size bypass the cache.
inline constexpr std::size_t kHostCacheMinBytes = std::size_t{64} << 10;

/// The raw allocator under the host cache: aligned operator new.
struct AlignedHostHeap {
    void* allocate(std::size_t bytes) const noexcept {
        return ::operator new(bytes, std::align_val_t{kStorageAlignment}, std::nothrow);
    }
    void release(void* block) const noexcept { ::operator delete(block, std::align_val_t{kStorageAlignment}); }
};

using HostAllocator = CachingAllocator<AlignedHostHeap>;

namespace detail {

inline constexpr std::size_t kDefaultHostCacheLimit = std::size_t{1} << 30;

inline std::size_t& host_cache_limit_value() {
    static std::size_t limit = kDefaultHostCacheLimit;
    return limit;
}

}  // namespace detail

/// The host block cache. Never destroyed, so tensors freed during static
/// destruction are safe.
inline HostAllocator& host_allocator() {
    static auto* allocator = new HostAllocator(AlignedHostHeap{}, detail::kDefaultHostCacheLimit);
    return *allocator;
}

inline std::size_t host_cache_limit() { return detail::host_cache_limit_value(); }

/// Changes how many bytes of freed host blocks are kept, releasing the excess now.
inline void set_host_cache_limit(std::size_t bytes) {
    detail::host_cache_limit_value() = bytes;
    host_allocator().set_cache_limit(bytes);
}

/// Gives every cached host block back to the system.
inline void release_host_cache() { host_allocator().release_cached(); }

/// `bytes` (at least 1) of 64-byte aligned host memory; throws vgt::Error
/// when there is none. Free with free_host(block, bytes), the same bytes.
inline void* allocate_host(std::size_t bytes) {
    if (bytes >= kHostCacheMinBytes) return host_allocator().allocate(bytes);
    void* block = AlignedHostHeap{}.allocate(bytes);
    VGT_CHECK(block, "allocate", "expected {} bytes of host memory, found none free", bytes);
    return block;
}

inline void free_host(void* block, std::size_t bytes) {
    if (bytes >= kHostCacheMinBytes) host_allocator().deallocate(block);
    else AlignedHostHeap{}.release(block);
}

}  // namespace vgt
