#include "support.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include <vgt/data/batch.hpp>
#include <vgt/data/dataset.hpp>
#include <vgt/data/loader.hpp>
#include <vgt/data/moving_shapes.hpp>
#include <vgt/data/sampler.hpp>

namespace vgt::test::loader_test {

using namespace vgt::data;
using namespace std::chrono_literals;

namespace {

/// Clip i: a [2, 1, 2, 3] video filled with i, caption "clip i"; get() may
/// sleep, may throw at one index, and counts its calls.
struct NumberedDataset {
    std::int64_t count = 20;
    std::chrono::milliseconds delay{0};
    std::int64_t fail_at = -1;
    std::shared_ptr<std::atomic<int>> calls = std::make_shared<std::atomic<int>>(0);

    std::int64_t size() const { return count; }
    Clip get(std::int64_t i) const {
        ++*calls;
        if (delay.count() > 0) std::this_thread::sleep_for(delay);
        VGT_CHECK(i != fail_at, "NumberedDataset::get", "expected a readable clip, found a broken one at {}", i);
        return {Tensor::full(Shape{2, 1, 2, 3}, static_cast<double>(i)), "clip " + std::to_string(i)};
    }
};

/// A clip type with ground truth of its own, as a data set may attach.
struct LabelledClip : Clip {
    std::int64_t label = 0;
};
struct LabelledDataset {
    std::int64_t size() const { return 6; }
    LabelledClip get(std::int64_t i) const {
        LabelledClip c;
        c.video = Tensor::full(Shape{1, 3, 2, 2}, static_cast<double>(i));
        c.caption = "labelled";
        c.label = 100 + i;
        return c;
    }
};

struct NotADataset {
    std::int64_t size() const { return 1; }
    int get(std::int64_t) const { return 0; }
};

static_assert(Dataset<NumberedDataset>);
static_assert(Dataset<LabelledDataset>);
static_assert(Dataset<MovingShapes>);
static_assert(!Dataset<NotADataset>);
static_assert(std::is_same_v<clip_type_t<LabelledDataset>, LabelledClip>);
static_assert(std::is_same_v<clip_type_t<MovingShapes>, ShapesClip>);

/// The indices of each batch, and the first value of each clip's video.
std::vector<std::int64_t> first_values(const Batch<Clip>& batch) {
    std::vector<std::int64_t> out;
    for (std::int64_t b = 0; b < batch.size(); ++b)
        out.push_back(static_cast<std::int64_t>(select(batch.video, 0, b).to_vector<double>()[0]));
    return out;
}

}  // namespace

TEST_CASE("collate stacks clips and keeps their extras", "[data][loader]") {
    LabelledDataset data;
    Batch<LabelledClip> batch = collate(std::vector<LabelledClip>{data.get(2), data.get(4)}, {2, 4});
    CHECK(batch.video.shape() == Shape{2, 1, 3, 2, 2});
    CHECK(batch.size() == 2);
    CHECK(batch.captions == std::vector<std::string>{"labelled", "labelled"});
    CHECK(batch.indices == std::vector<std::int64_t>{2, 4});
    CHECK(batch.clips[1].label == 104);
    // Each clip's video is a view of the batch: one copy of the pixels.
    CHECK(batch.clips[1].video.same_storage(batch.video));
    CHECK(batch.clips[1].video.to_vector<double>() == std::vector<double>(12, 4.0));
    CHECK(select(batch.video, 0, 0).to_vector<double>() == std::vector<double>(12, 2.0));

    std::vector<Clip> mismatched{{Tensor::zeros(Shape{2, 3, 4, 4}), "a"}, {Tensor::zeros(Shape{2, 3, 4, 5}), "b"}};
    CHECK_THROWS_WITH(collate(mismatched), Catch::Contains("collate") && Catch::Contains("[2, 3, 4, 5]") &&
                                               Catch::Contains("clip 1"));
    CHECK_THROWS_WITH(collate(std::vector<Clip>{}), Catch::Contains("collate") && Catch::Contains("at least one"));
    std::vector<Clip> flat{{Tensor::zeros(Shape{3, 4}), "a"}};
    CHECK_THROWS_WITH(collate(flat), Catch::Contains("[T, C, H, W]") && Catch::Contains("[3, 4]"));
}

TEST_CASE("shuffle sampler: a permutation per (seed, epoch)", "[data][loader]") {
    ShuffleSampler sampler(50, 3);
    const auto e0 = sampler.order(0), e1 = sampler.order(1);
    std::vector<std::int64_t> sorted = e0;
    std::sort(sorted.begin(), sorted.end());
    std::vector<std::int64_t> identity(50);
    std::iota(identity.begin(), identity.end(), std::int64_t{0});
    CHECK(sorted == identity);
    CHECK(e0 != identity);
    CHECK(e0 != e1);
    CHECK(ShuffleSampler(50, 3).order(1) == e1);
    CHECK(ShuffleSampler(50, 4).order(0) != e0);
    CHECK(ShuffleSampler(50, 3, false).order(7) == identity);
    // Golden: guards the order across machines.
    CHECK(ShuffleSampler(8, 1).order(0) == std::vector<std::int64_t>{5, 6, 3, 7, 2, 1, 4, 0});
    CHECK_THROWS_WITH(ShuffleSampler(0, 1), Catch::Contains("ShuffleSampler") && Catch::Contains("found 0"));
    CHECK_THROWS_WITH(sampler.order(-1), Catch::Contains("epoch"));
}

TEST_CASE("loader: the same batches whatever the timing or prefetch depth", "[data][loader]") {
    LoaderOptions options;
    options.batch_size = 3;
    options.seed = 11;
    NumberedDataset data;  // 20 clips: 6 batches per epoch, 2 clips dropped
    ShuffleSampler sampler(20, 11);
    std::vector<std::vector<std::int64_t>> expected;
    for (std::int64_t step = 0; step < 14; ++step) {
        const auto order = sampler.order(step / 6);
        const std::int64_t at = (step % 6) * 3;
        expected.push_back({order[at], order[at + 1], order[at + 2]});
    }
    for (int prefetch : {0, 1, 2, 8}) {
        options.prefetch = prefetch;
        DataLoader<NumberedDataset> loader(data, options);
        CHECK(loader.batches_per_epoch() == 6);
        for (std::int64_t step = 0; step < 14; ++step) {
            if (step % 3 == 1) std::this_thread::sleep_for(2ms);  // a consumer of uneven pace
            const Batch<Clip> batch = loader.next();
            INFO("prefetch " << prefetch << " step " << step);
            CHECK(batch.step == step);
            CHECK(batch.epoch == step / 6);
            CHECK(batch.indices == expected[static_cast<std::size_t>(step)]);
            CHECK(first_values(batch) == expected[static_cast<std::size_t>(step)]);
            CHECK(batch.captions[0] == "clip " + std::to_string(expected[static_cast<std::size_t>(step)][0]));
            CHECK(batch.video.shape() == Shape{3, 2, 1, 2, 3});
        }
        CHECK(loader.step() == 14);
    }
}

TEST_CASE("loader: epochs, the last partial batch, and resuming with seek", "[data][loader]") {
    LoaderOptions options;
    options.batch_size = 8;
    options.drop_last = false;
    options.shuffle = false;
    DataLoader<NumberedDataset> loader(NumberedDataset{}, options);
    CHECK(loader.batches_per_epoch() == 3);
    CHECK(loader.next().indices == std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6, 7});
    loader.next();
    const Batch<Clip> last = loader.next();
    CHECK(last.indices == std::vector<std::int64_t>{16, 17, 18, 19});
    CHECK(last.video.size(0) == 4);
    CHECK(loader.next().epoch == 1);

    options.shuffle = true;
    options.drop_last = true;
    options.seed = 5;
    DataLoader<NumberedDataset> straight(NumberedDataset{}, options);
    std::vector<std::vector<std::int64_t>> seen;
    for (int i = 0; i < 7; ++i) seen.push_back(straight.next().indices);
    DataLoader<NumberedDataset> resumed(NumberedDataset{}, options, 4);  // a run resumed at step 4
    CHECK(resumed.next().indices == seen[4]);
    resumed.seek(1);
    CHECK(resumed.step() == 1);
    CHECK(resumed.next().indices == seen[1]);
    CHECK(resumed.next().indices == seen[2]);
    CHECK_THROWS_WITH(resumed.seek(-2), Catch::Contains("seek") && Catch::Contains("-2"));
}

TEST_CASE("loader: clips with ground truth travel in the batch", "[data][loader]") {
    LoaderOptions options;
    options.batch_size = 2;
    DataLoader<LabelledDataset> loader(LabelledDataset{}, options);
    const Batch<LabelledClip> batch = loader.next();
    for (std::int64_t b = 0; b < 2; ++b)
        CHECK(batch.clips[static_cast<std::size_t>(b)].label == 100 + batch.indices[static_cast<std::size_t>(b)]);

    MovingShapesOptions shapes;
    shapes.frames = 4;
    shapes.height = shapes.width = 24;
    shapes.min_size = 6;
    shapes.max_size = 8;
    DataLoader<MovingShapes> shape_loader(MovingShapes(shapes), options);
    const Batch<ShapesClip> shape_batch = shape_loader.next();
    CHECK(shape_batch.video.shape() == Shape{2, 4, 3, 24, 24});
    for (const ShapesClip& clip : shape_batch.clips) {
        CHECK(!clip.objects.empty());
        CHECK(clip.objects[0].mask.shape() == Shape{4, 24, 24});
        // Same clip as the data set makes directly.
        CHECK(clip.caption == shape_loader.dataset().get(clip.index).caption);
        CHECK(clip.video.to_vector<float>() == shape_loader.dataset().get(clip.index).video.to_vector<float>());
    }
}

TEST_CASE("loader: an error in the worker is re-thrown in the caller's thread", "[data][loader]") {
    LoaderOptions options;
    options.batch_size = 2;
    options.shuffle = false;
    for (int prefetch : {0, 2}) {
        options.prefetch = prefetch;
        NumberedDataset data;
        data.fail_at = 5;  // in batch 2
        DataLoader<NumberedDataset> loader(data, options);
        CHECK(loader.next().indices == std::vector<std::int64_t>{0, 1});
        CHECK(loader.next().indices == std::vector<std::int64_t>{2, 3});
        CHECK_THROWS_WITH(loader.next(), Catch::Contains("NumberedDataset::get") && Catch::Contains("at 5"));
        CHECK(loader.step() == 2);
        // It stays failed (no hang waiting for a worker that has stopped) until seek().
        CHECK_THROWS_WITH(loader.next(), Catch::Contains("at 5"));
        loader.seek(3);
        CHECK(loader.next().indices == std::vector<std::int64_t>{6, 7});
    }
    NumberedDataset bad;
    CHECK_THROWS_WITH(DataLoader<NumberedDataset>(bad, LoaderOptions{.batch_size = 0}),
                      Catch::Contains("DataLoader") && Catch::Contains("batch_size"));
    CHECK_THROWS_WITH(DataLoader<NumberedDataset>(bad, LoaderOptions{.batch_size = 21}),
                      Catch::Contains("at least batch_size=21") && Catch::Contains("found 20"));
    CHECK_THROWS_WITH(DataLoader<NumberedDataset>(bad, LoaderOptions{.prefetch = 9}), Catch::Contains("prefetch"));
}

TEST_CASE("loader: shutdown is clean whenever the consumer stops", "[data][loader]") {
    LoaderOptions options;
    options.batch_size = 2;
    options.prefetch = 2;
    const auto started = std::chrono::steady_clock::now();
    {
        DataLoader<NumberedDataset> unused(NumberedDataset{}, options);  // never read
    }
    {
        NumberedDataset slow;
        slow.delay = 5ms;
        DataLoader<NumberedDataset> loader(slow, options);
        loader.next();
        // The queue fills (one batch taken, two prepared), then the worker waits for room.
        const auto deadline = std::chrono::steady_clock::now() + 2s;
        while (*slow.calls < 6 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
        std::this_thread::sleep_for(30ms);
        CHECK(*slow.calls == 2 * (1 + 2));
    }
    {
        NumberedDataset slower;
        slower.delay = 30ms;
        slower.count = 1000;
        options.batch_size = 50;  // a batch would take 1.5 s
        auto loader = std::make_unique<DataLoader<NumberedDataset>>(slower, options);
        std::this_thread::sleep_for(10ms);  // the worker is inside get()
        const auto stop = std::chrono::steady_clock::now();
        loader.reset();  // finishes the clip in hand, abandons the batch
        CHECK(std::chrono::steady_clock::now() - stop < 200ms);
        CHECK(*slower.calls <= 2);
    }
    CHECK(std::chrono::steady_clock::now() - started < 3s);
}

TEST_CASE("loader: the next batch is prepared while the current one is used", "[data][loader]") {
    NumberedDataset slow;
    slow.delay = 15ms;
    LoaderOptions options;
    options.batch_size = 2;  // 30 ms to make a batch
    options.prefetch = 2;
    const int batches = 8;
    const auto work = 30ms;  // the "training step"
    const auto started = std::chrono::steady_clock::now();
    {
        DataLoader<NumberedDataset> loader(slow, options);
        for (int i = 0; i < batches; ++i) {
            loader.next();
            std::this_thread::sleep_for(work);
        }
    }
    const auto elapsed = std::chrono::steady_clock::now() - started;
    // Serially: 8 × (30 + 30) = 480 ms; overlapped about 30 + 8 × 30 = 270 ms.
    INFO("elapsed " << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() << " ms");
    CHECK(elapsed < 400ms);
}

}  // namespace vgt::test::loader_test
