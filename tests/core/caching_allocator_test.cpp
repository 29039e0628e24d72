#include "support.hpp"

#include <map>

#include <vgt/core/caching_allocator.hpp>

using namespace vgt;

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
