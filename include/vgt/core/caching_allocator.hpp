#pragma once
// CachingAllocator: keeps freed blocks and hands them out again for requests
// of the same size class, so that a training loop that allocates the same
// shapes every step stops calling the raw allocator: cudaMalloc synchronises
// the device, and fresh host pages fault and are zeroed by the kernel on
// first touch; reusing a block does neither. The raw allocator is a policy,
// so the bookkeeping is tested on the CPU.

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <map>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "vgt/core/error.hpp"

namespace vgt {

struct AllocatorStats {
    std::size_t bytes_in_use = 0;       // size classes of live blocks
    std::size_t peak_bytes_in_use = 0;  // the most bytes_in_use has been
    std::size_t bytes_cached = 0;       // freed blocks kept for reuse
    std::size_t raw_allocations = 0;    // calls to the raw allocator
    std::size_t reuses = 0;             // requests served from the cache
};

/// Rounds a request up to its size class: 512-byte steps below 1 MiB, 2 MiB
/// steps above, so that nearby sizes share blocks without wasting much.
inline std::size_t allocation_size_class(std::size_t bytes) {
    constexpr std::size_t kSmallStep = 512, kLargeStep = std::size_t{2} << 20, kSmallLimit = std::size_t{1} << 20;
    const std::size_t step = bytes < kSmallLimit ? kSmallStep : kLargeStep;
    return bytes == 0 ? step : (bytes + step - 1) / step * step;
}

/// RawAllocator: `void* allocate(std::size_t)` returning nullptr when out of
/// memory, and `void release(void*)`.
template <class RawAllocator>
class CachingAllocator {
public:
    /// Keeps at most `cache_limit` bytes of freed blocks; a block freed
    /// beyond that goes back to the raw allocator.
    explicit CachingAllocator(RawAllocator raw = {}, std::size_t cache_limit = static_cast<std::size_t>(-1))
        : raw_(std::move(raw)), cache_limit_(cache_limit) {}
    ~CachingAllocator() { release_cached(); }

    CachingAllocator(const CachingAllocator&) = delete;
    CachingAllocator& operator=(const CachingAllocator&) = delete;

    void* allocate(std::size_t bytes) {
        const std::size_t size = allocation_size_class(bytes);
        std::lock_guard<std::mutex> lock(mutex_);
        void* block = nullptr;
        if (auto cached = free_.find(size); cached != free_.end()) {
            block = cached->second;
            free_.erase(cached);
            stats_.bytes_cached -= size;
            ++stats_.reuses;
        } else {
            block = raw_.allocate(size);
            if (!block) {
                // Out of memory: give the cached blocks back and try once more.
                release_cached_locked();
                block = raw_.allocate(size);
            }
            VGT_CHECK(block, "allocate", "expected {} bytes of memory, found none free ({} in use)", size,
                      stats_.bytes_in_use);
            ++stats_.raw_allocations;
        }
        live_.emplace(block, size);
        stats_.bytes_in_use += size;
        stats_.peak_bytes_in_use = std::max(stats_.peak_bytes_in_use, stats_.bytes_in_use);
        return block;
    }

    /// Returns a block from allocate() to the cache.
    void deallocate(void* block) {
        std::lock_guard<std::mutex> lock(mutex_);
        const auto live = live_.find(block);
        VGT_CHECK(live != live_.end(), "deallocate", "expected a block from this allocator, found {}", block);
        const std::size_t size = live->second;
        live_.erase(live);
        stats_.bytes_in_use -= size;
        if (stats_.bytes_cached + size > cache_limit_) {
            raw_.release(block);
            return;
        }
        free_.emplace(size, block);
        stats_.bytes_cached += size;
    }

    /// Changes the limit on cached bytes, releasing cached blocks (the
    /// largest first) until the cache fits it.
    void set_cache_limit(std::size_t bytes) {
        std::lock_guard<std::mutex> lock(mutex_);
        cache_limit_ = bytes;
        while (stats_.bytes_cached > cache_limit_) {
            const auto largest = std::prev(free_.end());
            raw_.release(largest->second);
            stats_.bytes_cached -= largest->first;
            free_.erase(largest);
        }
    }

    /// Hands every cached block back to the raw allocator.
    void release_cached() {
        std::lock_guard<std::mutex> lock(mutex_);
        release_cached_locked();
    }

    AllocatorStats stats() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return stats_;
    }

    void reset_peak() {
        std::lock_guard<std::mutex> lock(mutex_);
        stats_.peak_bytes_in_use = stats_.bytes_in_use;
    }

private:
    void release_cached_locked() {
        for (const auto& [size, block] : free_) raw_.release(block);
        free_.clear();
        stats_.bytes_cached = 0;
    }

    RawAllocator raw_;
    std::size_t cache_limit_;
    mutable std::mutex mutex_;
    std::unordered_map<void*, std::size_t> live_;
    std::multimap<std::size_t, void*> free_;
    AllocatorStats stats_;
};

}  // namespace vgt
