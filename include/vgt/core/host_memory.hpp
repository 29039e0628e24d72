#pragma once
// Bytes of host (CPU) tensor storage in use, and the most there has been
// since the last reset_host_memory_peak(): what an ablation reports as a
// variant's peak training memory. Only tensor storage counts; the process's
// own heap (vectors, strings, the JSON of a config) does not.

#include <atomic>
#include <cstddef>

namespace vgt {

struct HostMemoryStats {
    std::size_t bytes_in_use = 0;
    std::size_t peak_bytes_in_use = 0;
};

namespace detail {

inline std::atomic<std::size_t>& host_bytes_in_use() {
    static std::atomic<std::size_t> bytes{0};
    return bytes;
}

inline std::atomic<std::size_t>& host_peak_bytes() {
    static std::atomic<std::size_t> bytes{0};
    return bytes;
}

inline void record_host_allocation(std::size_t bytes) {
    const std::size_t now = host_bytes_in_use().fetch_add(bytes, std::memory_order_relaxed) + bytes;
    std::size_t peak = host_peak_bytes().load(std::memory_order_relaxed);
    while (now > peak && !host_peak_bytes().compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
    }
}

inline void record_host_release(std::size_t bytes) {
    host_bytes_in_use().fetch_sub(bytes, std::memory_order_relaxed);
}

}  // namespace detail

inline HostMemoryStats host_memory_stats() {
    return {detail::host_bytes_in_use().load(std::memory_order_relaxed),
            detail::host_peak_bytes().load(std::memory_order_relaxed)};
}

/// Starts a new peak from the bytes in use now.
inline void reset_host_memory_peak() {
    detail::host_peak_bytes().store(detail::host_bytes_in_use().load(std::memory_order_relaxed),
                                    std::memory_order_relaxed);
}

}  // namespace vgt
