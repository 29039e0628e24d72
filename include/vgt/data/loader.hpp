#pragma once
// DataLoader: an endless, deterministic stream of batches from a data set,
// prepared on a background thread while the caller trains on the current one.
//
// The stream. Batch s (its `step`) comes from epoch e = s / batches_per_epoch,
// and holds the clips at positions [b·B, (b+1)·B) of that epoch's order
// (ShuffleSampler(size, seed).order(e)), b = s mod batches_per_epoch. So the
// batches depend only on (data set, options, s): not on timing, prefetch
// depth or where the run was resumed (`seek`).
//
// The thread. One worker builds batches in step order into a queue of at most
// `prefetch` batches and waits while it is full. An exception thrown while a
// batch is built (by the data set's get() or by collate) stops the worker and
// is re-thrown by the next() that would have returned that batch, and by
// every next() after it, until seek(). The destructor (and seek) stops the
// worker: it finishes the clip it is making, abandons the rest of its batch,
// and joins; a consumer may stop reading at any time. The worker runs
// parallel_for serially on its own thread, so it never queues behind the
// training step for the shared CPU pool.
//
// next() is for one consumer thread. The worker reads the data set
// concurrently with the caller: only use dataset() for calls that are safe
// alongside get() (MovingShapes' are; it is immutable).

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "vgt/core/error.hpp"
#include "vgt/core/parallel.hpp"
#include "vgt/data/batch.hpp"
#include "vgt/data/dataset.hpp"
#include "vgt/data/sampler.hpp"

namespace vgt::data {

struct LoaderOptions {
    std::int64_t batch_size = 8;
    bool shuffle = true;     // false: every epoch visits the data set in index order
    bool drop_last = true;   // true: every batch has batch_size clips; false: an epoch's last may be smaller
    std::uint64_t seed = 0;  // of the shuffle order
    int prefetch = 2;        // batches prepared ahead (1..8); 0 builds each batch inside next(), no thread
};

template <Dataset D>
class DataLoader {
public:
    using clip_type = clip_type_t<D>;
    using batch_type = Batch<clip_type>;

    /// A loader whose first batch is step `start_step`.
    explicit DataLoader(D dataset, LoaderOptions options = {}, std::int64_t start_step = 0)
        : dataset_(std::move(dataset)),
          options_(options),
          sampler_(checked_size(dataset_, options_), options_.seed, options_.shuffle) {
        const std::int64_t n = sampler_.size();
        batches_per_epoch_ = options_.drop_last ? n / options_.batch_size
                                                : (n + options_.batch_size - 1) / options_.batch_size;
        VGT_CHECK(options_.prefetch >= 0 && options_.prefetch <= 8, "DataLoader",
                  "expected prefetch in [0, 8] batches, found {}", options_.prefetch);
        seek(start_step);
    }

    DataLoader(const DataLoader&) = delete;
    DataLoader& operator=(const DataLoader&) = delete;

    ~DataLoader() { stop_worker(); }

    const D& dataset() const { return dataset_; }
    const LoaderOptions& options() const { return options_; }
    std::int64_t batches_per_epoch() const { return batches_per_epoch_; }
    /// The step of the batch the next call to next() returns.
    std::int64_t step() const { return next_step_; }

    /// The next batch of the stream (blocks until the worker has it ready).
    batch_type next() {
        if (error_) std::rethrow_exception(error_);
        if (options_.prefetch == 0) {
            try {
                batch_type batch = build(next_step_, dataset_, order_cache_, nullptr);
                ++next_step_;
                return batch;
            } catch (...) {
                error_ = std::current_exception();
                throw;
            }
        }
        std::unique_lock<std::mutex> lock(mutex_);
        ready_.wait(lock, [&] { return !queue_.empty(); });
        Item item = std::move(queue_.front());
        queue_.pop_front();
        lock.unlock();
        space_.notify_one();
        if (item.error) {
            error_ = item.error;
            std::rethrow_exception(error_);
        }
        ++next_step_;
        return std::move(*item.batch);
    }

    /// Restarts the stream at `step` (>= 0), dropping prepared batches and any error.
    void seek(std::int64_t step) {
        VGT_CHECK(step >= 0, "DataLoader::seek", "expected a step >= 0, found {}", step);
        stop_worker();
        queue_.clear();
        error_ = nullptr;
        next_step_ = step;
        if (options_.prefetch > 0) {
            stopping_ = false;
            worker_ = std::thread([this, step] { produce(step); });
        }
    }

private:
    struct Item {
        std::optional<batch_type> batch;
        std::exception_ptr error;
    };
    struct EpochOrder {
        std::int64_t epoch = -1;
        std::vector<std::int64_t> indices;
    };

    static std::int64_t checked_size(D& dataset, const LoaderOptions& options) {
        VGT_CHECK(options.batch_size >= 1, "DataLoader", "expected batch_size >= 1, found {}", options.batch_size);
        const auto size = static_cast<std::int64_t>(dataset.size());
        VGT_CHECK(size >= 1, "DataLoader", "expected a data set with at least one clip, found {}", size);
        VGT_CHECK(!options.drop_last || size >= options.batch_size, "DataLoader",
                  "expected at least batch_size={} clips with drop_last, found {}", options.batch_size, size);
        return size;
    }

    /// Batch `step`; gives up early (returns nothing useful) once `stop` is set.
    batch_type build(std::int64_t step, D& dataset, EpochOrder& cache, const std::atomic<bool>* stop) const {
        const std::int64_t epoch = step / batches_per_epoch_;
        const std::int64_t position = step % batches_per_epoch_;
        if (cache.epoch != epoch) {
            cache.indices = sampler_.order(epoch);
            cache.epoch = epoch;
        }
        const std::int64_t begin = position * options_.batch_size;
        const std::int64_t end = std::min<std::int64_t>(begin + options_.batch_size, sampler_.size());
        std::vector<clip_type> clips;
        std::vector<std::int64_t> indices;
        for (std::int64_t i = begin; i < end; ++i) {
            if (stop != nullptr && stop->load()) return {};
            const std::int64_t index = cache.indices[static_cast<std::size_t>(i)];
            clips.push_back(dataset.get(index));
            indices.push_back(index);
        }
        batch_type batch = collate(std::move(clips), std::move(indices));
        batch.epoch = epoch;
        batch.step = step;
        return batch;
    }

    void produce(std::int64_t step) {
        // Serial parallel_for here: the pool belongs to the training step.
        parallel_detail::ThreadPool::inside_parallel_region() = true;
        EpochOrder cache;
        for (;; ++step) {
            {
                std::unique_lock<std::mutex> lock(mutex_);
                space_.wait(lock, [&] {
                    return stopping_.load() || static_cast<int>(queue_.size()) < options_.prefetch;
                });
                if (stopping_) return;
            }
            Item item;
            try {
                item.batch = build(step, dataset_, cache, &stopping_);
            } catch (...) {
                item.error = std::current_exception();
            }
            if (stopping_) return;
            const bool failed = static_cast<bool>(item.error);
            {
                std::lock_guard<std::mutex> lock(mutex_);
                queue_.push_back(std::move(item));
            }
            ready_.notify_one();
            if (failed) return;
        }
    }

    void stop_worker() {
        if (!worker_.joinable()) return;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stopping_ = true;
        }
        space_.notify_all();
        worker_.join();
    }

    D dataset_;
    LoaderOptions options_;
    ShuffleSampler sampler_;
    std::int64_t batches_per_epoch_ = 1;
    std::int64_t next_step_ = 0;
    EpochOrder order_cache_;  // the consumer thread's, when prefetch is 0
    std::exception_ptr error_;

    std::mutex mutex_;
    std::condition_variable space_;  // the worker waits for room in the queue
    std::condition_variable ready_;  // next() waits for a batch
    std::deque<Item> queue_;
    std::atomic<bool> stopping_{false};
    std::thread worker_;
};

}  // namespace vgt::data
