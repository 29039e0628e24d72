#include "support.hpp"

#include <cstdint>
#include <map>

#include <vgt/core/caching_allocator.hpp>
#include <vgt/core/host_allocator.hpp>

namespace vgt::test::caching_allocator_test {

namespace {
// A raw allocator over the host heap that counts its calls and has a fixed
// capacity, so that it can run out of memory.
struct Heap {
    int allocations = 0;
    int releases = 0;
    std::size_t capacity = std::size_t{1} << 30;  // bytes it may still hand out
    std::map<void*, std::size_t> sizes;
};
struct CountingHeap {
    Heap* heap;
    void* allocate(std::size_t bytes) {
        if (bytes > heap->capacity) return nullptr;
        heap->capacity -= bytes;
        ++heap->allocations;
        void* block = ::operator new(bytes);
        heap->sizes[block] = bytes;
        return block;
    }
    void release(void* block) {
        ++heap->releases;
        heap->capacity += heap->sizes.at(block);
        heap->sizes.erase(block);
        ::operator delete(block);
    }
};
}  // namespace

TEST_CASE("size classes round up in small and large steps", "[core][allocator]") {
    CHECK(allocation_size_class(0) == 512);
    CHECK(allocation_size_class(1) == 512);
    CHECK(allocation_size_class(512) == 512);
    CHECK(allocation_size_class(513) == 1024);
    CHECK(allocation_size_class((1u << 20) + 1) == (std::size_t{2} << 20));
    CHECK(allocation_size_class(std::size_t{3} << 20) == (std::size_t{4} << 20));
}

TEST_CASE("freed blocks are reused by size class, and stats follow", "[core][allocator]") {
    Heap heap;
    int& allocations = heap.allocations;
    int& releases = heap.releases;
    {
        CachingAllocator<CountingHeap> cache(CountingHeap{&heap});
        void* a = cache.allocate(1000);   // class 1024
        void* b = cache.allocate(5000);   // class 5120
        CHECK(cache.stats().bytes_in_use == 1024 + 5120);
        cache.deallocate(a);
        CHECK(cache.stats().bytes_cached == 1024);
        void* c = cache.allocate(900);    // same class as a: reused
        CHECK(c == a);
        CHECK(allocations == 2);
        CHECK(cache.stats().reuses == 1);
        void* d = cache.allocate(2000);   // another class: a new block
        CHECK(allocations == 3);
        CHECK(cache.stats().peak_bytes_in_use == 1024 + 5120 + 2048);
        for (void* p : {b, c, d}) cache.deallocate(p);
        CHECK(cache.stats().bytes_in_use == 0);
        CHECK(cache.stats().bytes_cached == 1024 + 5120 + 2048);
        cache.reset_peak();
        CHECK(cache.stats().peak_bytes_in_use == 0);
        cache.release_cached();
        CHECK(releases == 3);
        CHECK(cache.stats().bytes_cached == 0);
        CHECK_THROWS_WITH(cache.deallocate(b), Catch::Contains("deallocate"));
    }
    CHECK(releases == 3);
}

TEST_CASE("running out of memory releases the cache and retries, then fails clearly", "[core][allocator]") {
    Heap heap;
    heap.capacity = 4096;
    CachingAllocator<CountingHeap> cache(CountingHeap{&heap});
    void* a = cache.allocate(3000);  // class 3072; 1024 left
    cache.deallocate(a);             // cached, still counted against the heap
    // 2048 does not fit in the 1024 left; releasing the cached 3072 makes room.
    void* b = cache.allocate(2048);
    CHECK(heap.releases == 1);
    heap.capacity = 0;
    CHECK_THROWS_WITH(cache.allocate(4096), Catch::Contains("allocate") && Catch::Contains("4096"));
    cache.deallocate(b);
}

TEST_CASE("the allocator is safe to use from several threads", "[core][allocator]") {
    Heap heap;
    CachingAllocator<CountingHeap> cache(CountingHeap{&heap});
    set_num_threads(2);
    parallel_for(2000, [&](std::int64_t i) {
        void* p = cache.allocate(static_cast<std::size_t>(512 * (1 + i % 4)));
        cache.deallocate(p);
    }, 10);
    CHECK(cache.stats().bytes_in_use == 0);
    CHECK(cache.stats().raw_allocations + cache.stats().reuses == 2000);
    CHECK(cache.stats().raw_allocations <= 8);  // at most 4 classes × 2 threads
}

TEST_CASE("a cache limit sends blocks freed beyond it back to the raw allocator", "[core][allocator]") {
    Heap heap;
    CachingAllocator<CountingHeap> cache(CountingHeap{&heap}, 3072);
    void* a = cache.allocate(1024);
    void* b = cache.allocate(2048);
    void* c = cache.allocate(1024);
    cache.deallocate(a);  // 1024 cached
    cache.deallocate(b);  // 3072 cached: at the limit
    cache.deallocate(c);  // would exceed it: released
    CHECK(cache.stats().bytes_cached == 3072);
    CHECK(heap.releases == 1);
    cache.set_cache_limit(1500);  // the largest cached block goes first
    CHECK(cache.stats().bytes_cached == 1024);
    CHECK(heap.releases == 2);
    CHECK(cache.allocate(1000) == a);
    cache.set_cache_limit(0);
    CHECK(heap.releases == 2);  // nothing cached, nothing to release
}

TEST_CASE("CPU tensors of 64 KiB and more reuse freed blocks; small ones use the heap", "[core][allocator]") {
    release_host_cache();
    const AllocatorStats before = host_allocator().stats();
    const void* first = nullptr;
    {
        const Tensor big = Tensor::zeros({128, 1024}, DType::Float32);  // 512 KiB
        first = big.raw_data();
        CHECK(reinterpret_cast<std::uintptr_t>(first) % kStorageAlignment == 0);
    }
    const Tensor again = Tensor::zeros({1024, 128}, DType::Float32);  // same size class
    CHECK(again.raw_data() == first);
    CHECK(host_allocator().stats().reuses == before.reuses + 1);
    CHECK(again.to_vector()[12345] == 0.0);  // a reused block is still zeroed by zeros()

    const std::size_t raw_before_small = host_allocator().stats().raw_allocations;
    { const Tensor small = Tensor::ones({100}, DType::Float32); }
    CHECK(host_allocator().stats().raw_allocations == raw_before_small);

    set_host_cache_limit(0);  // off: a freed block goes straight back
    { const Tensor big = Tensor::zeros({256, 1024}, DType::Float32); }
    CHECK(host_allocator().stats().bytes_cached == 0);
    set_host_cache_limit(std::size_t{1} << 30);
    CHECK(host_cache_limit() == (std::size_t{1} << 30));
}

}  // namespace vgt::test::caching_allocator_test
