#pragma once
// parallel_for: runs one functor over an index range on a fixed pool of CPU
// threads. The calling thread takes a share of the work; a parallel_for
// inside another runs serially on the thread that reached it.

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "vgt/core/error.hpp"

namespace vgt {

namespace parallel_detail {

class ThreadPool {
public:
    static ThreadPool& instance() {
        static ThreadPool pool;
        return pool;
    }

    int num_threads() const { return num_threads_; }

    void set_num_threads(int n) {
        VGT_CHECK(n >= 1, "set_num_threads", "expected at least 1 thread, found {}", n);
        std::lock_guard<std::mutex> run_lock(run_mutex_);
        stop_workers();
        num_threads_ = n;
        start_workers();
    }

    /// Runs task(chunk) for chunk in [0, chunks) across the pool and waits.
    void run(std::int64_t chunks, const std::function<void(std::int64_t)>& task) {
        std::lock_guard<std::mutex> run_lock(run_mutex_);
        {
            std::lock_guard<std::mutex> lock(mutex_);
            task_ = &task;
            chunks_ = chunks;
            next_chunk_.store(0);
            pending_workers_ = static_cast<int>(workers_.size());
            error_ = nullptr;
            ++generation_;
        }
        wake_.notify_all();
        work_on_chunks();
        std::unique_lock<std::mutex> lock(mutex_);
        done_.wait(lock, [&] { return pending_workers_ == 0; });
        task_ = nullptr;
        if (error_) std::rethrow_exception(error_);
    }

    static bool& inside_parallel_region() {
        thread_local bool inside = false;
        return inside;
    }

    ~ThreadPool() { stop_workers(); }

private:
    ThreadPool() {
        unsigned hw = std::thread::hardware_concurrency();
        num_threads_ = hw == 0 ? 1 : static_cast<int>(hw);
        start_workers();
    }

    void start_workers() {
        stopping_ = false;
        for (int i = 1; i < num_threads_; ++i) workers_.emplace_back([this] { worker_loop(); });
    }

    void stop_workers() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stopping_ = true;
        }
        wake_.notify_all();
        for (auto& w : workers_) w.join();
        workers_.clear();
    }

    void worker_loop() {
        std::uint64_t seen = 0;
        for (;;) {
            {
                std::unique_lock<std::mutex> lock(mutex_);
                wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
                if (stopping_) return;
                seen = generation_;
            }
            work_on_chunks();
            std::lock_guard<std::mutex> lock(mutex_);
            if (--pending_workers_ == 0) done_.notify_all();
        }
    }

    void work_on_chunks() {
        bool& inside = inside_parallel_region();
        inside = true;
        for (;;) {
            std::int64_t chunk = next_chunk_.fetch_add(1);
            if (chunk >= chunks_) break;
            try {
                (*task_)(chunk);
            } catch (...) {
                std::lock_guard<std::mutex> lock(mutex_);
                if (!error_) error_ = std::current_exception();
            }
        }
        inside = false;
    }

    int num_threads_ = 1;
    std::vector<std::thread> workers_;
    std::mutex run_mutex_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable done_;
    const std::function<void(std::int64_t)>* task_ = nullptr;
    std::int64_t chunks_ = 0;
    std::atomic<std::int64_t> next_chunk_{0};
    int pending_workers_ = 0;
    std::uint64_t generation_ = 0;
    bool stopping_ = false;
    std::exception_ptr error_;
};

}  // namespace parallel_detail

/// Number of CPU threads that parallel_for uses (default: hardware threads).
inline int num_threads() { return parallel_detail::ThreadPool::instance().num_threads(); }

/// Sets the number of CPU threads that parallel_for uses, the caller included.
inline void set_num_threads(int n) { parallel_detail::ThreadPool::instance().set_num_threads(n); }

/// Calls f(lo, hi) on disjoint chunks covering [begin, end), each at least
/// `grain` indices long (except the last), spread over the pool's threads.
template <class F>
void parallel_for_chunks(std::int64_t begin, std::int64_t end, std::int64_t grain, F&& f) {
    const std::int64_t n = end - begin;
    if (n <= 0) return;
    grain = std::max<std::int64_t>(grain, 1);
    const int threads = num_threads();
    if (threads == 1 || n <= grain || parallel_detail::ThreadPool::inside_parallel_region()) {
        f(begin, end);
        return;
    }
    // A few chunks per thread balance uneven work without much overhead.
    const std::int64_t chunks = std::min<std::int64_t>((n + grain - 1) / grain, 4 * threads);
    const std::int64_t per_chunk = (n + chunks - 1) / chunks;
    std::function<void(std::int64_t)> task = [&](std::int64_t c) {
        const std::int64_t lo = begin + c * per_chunk;
        const std::int64_t hi = std::min(end, lo + per_chunk);
        if (lo < hi) f(lo, hi);
    };
    parallel_detail::ThreadPool::instance().run(chunks, task);
}

/// Calls f(i) for every i in [0, n) on the pool's threads. `grain` is the
/// smallest number of consecutive indices worth giving a thread.
template <class F>
void parallel_for(std::int64_t n, F&& f, std::int64_t grain = 2048) {
    parallel_for_chunks(0, n, grain, [&](std::int64_t lo, std::int64_t hi) {
        for (std::int64_t i = lo; i < hi; ++i) f(i);
    });
}

}  // namespace vgt
