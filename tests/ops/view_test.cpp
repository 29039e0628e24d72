#include "support.hpp"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <random>
#include <vector>

namespace vgt::test::view_test {

using test::random;

TEST_CASE("view operations differentiate", "[ops][view]") {
    Tensor x = random({2, 3, 4}, 21);
    const std::vector<std::pair<const char*, std::function<Tensor(const Tensor&)>>> ops = {
        {"reshape", [](const Tensor& t) { return reshape(t, {4, -1}); }},
        {"flatten", [](const Tensor& t) { return flatten(t, 1); }},
        {"slice", [](const Tensor& t) { return slice(t, 2, 1, 4, 2); }},
        {"slice negative", [](const Tensor& t) { return slice(t, -2, -2, 3); }},
        {"select", [](const Tensor& t) { return select(t, 1, 2); }},
        {"permute", [](const Tensor& t) { return permute(t, {2, 0, 1}); }},
        {"transpose", [](const Tensor& t) { return transpose(t, 0, 2); }},
        {"unsqueeze+squeeze", [](const Tensor& t) { return squeeze(unsqueeze(t, -1), 3); }},
        {"reshape of a permuted view", [](const Tensor& t) { return reshape(permute(t, {1, 0, 2}), {6, 4}); }},
        {"contiguous", [](const Tensor& t) { return contiguous(transpose(t, 1, 2)); }},
        {"clone", [](const Tensor& t) { return clone(t) * 2.0; }},
    };
    for (const auto& [name, op] : ops) {
        INFO(name);
        VGT_REQUIRE_GRADCHECK([op](const std::vector<Tensor>& in) { return op(in[0]); }, std::vector<Tensor>{x});
    }
}

TEST_CASE("to() converts and carries gradients between float types", "[ops][view]") {
    Tensor x = random({3}, 22).set_requires_grad();
    Tensor y = to(x, DType::Float32);
    CHECK(y.dtype() == DType::Float32);
    backward(sum(to(y, DType::Float64) * 3.0));
    CHECK(x.grad().to_vector() == std::vector<double>{3, 3, 3});
}

namespace {

constexpr DType kAllDTypes[] = {DType::Float32, DType::Float64, DType::BFloat16,
                                DType::Float16, DType::Int64,   DType::UInt8};

unsigned char* storage_bytes(const Tensor& t) { return static_cast<unsigned char*>(t.impl()->storage->data()); }

/// Fills a tensor's whole storage with random bytes.
void randomize_storage(const Tensor& t, std::mt19937_64& rng) {
    unsigned char* bytes = storage_bytes(t);
    for (std::size_t i = 0; i < t.impl()->storage->bytes(); ++i) bytes[i] = static_cast<unsigned char>(rng());
}

/// Storage offset (in elements) of row-major element `flat` of view t.
std::int64_t element_offset(const Tensor& t, std::int64_t flat) {
    std::int64_t off = t.offset();
    for (int d = t.rank() - 1; d >= 0; --d) {
        off += (flat % t.size(d)) * t.strides()[d];
        flat /= t.size(d);
    }
    return off;
}

/// The destination storage after copying src into dst one element at a time
/// in row-major order (reading src as it stands at each step, so aliasing
/// views behave as the definition says).
std::vector<unsigned char> reference_copy(const Tensor& dst, const Tensor& src) {
    const std::size_t width = dtype_size(dst.dtype());
    std::vector<unsigned char> out(storage_bytes(dst), storage_bytes(dst) + dst.impl()->storage->bytes());
    const std::vector<unsigned char> src_before(storage_bytes(src), storage_bytes(src) + src.impl()->storage->bytes());
    const bool shared = dst.same_storage(src);
    for (std::int64_t i = 0; i < dst.numel(); ++i) {
        const auto d = static_cast<std::size_t>(element_offset(dst, i)) * width;
        const auto s = static_cast<std::size_t>(element_offset(src, i)) * width;
        std::memmove(out.data() + d, (shared ? out.data() : src_before.data()) + s, width);
    }
    return out;
}

/// Runs copy_strided and compares the destination's whole storage (the
/// bytes outside the view must stay as they were) with the reference.
void check_copy(const Tensor& dst, const Tensor& src) {
    INFO("dtype " << dtype_name(src.dtype()) << ", shape " << src.shape().str() << ", src strides "
                  << src.strides().str() << ", dst strides " << dst.strides().str());
    const std::vector<unsigned char> expected = reference_copy(dst, src);
    detail::copy_strided(dst, src);
    const unsigned char* got = storage_bytes(dst);
    std::size_t mismatches = 0;
    std::size_t first = 0;
    for (std::size_t i = 0; i < expected.size(); ++i) {
        if (got[i] != expected[i] && mismatches++ == 0) first = i;
    }
    INFO("first mismatching byte " << first << " of " << expected.size());
    CHECK(mismatches == 0);
}

/// Sets the pool size for one scope.
struct ThreadCount {
    explicit ThreadCount(int n) : saved(num_threads()) { set_num_threads(n); }
    ~ThreadCount() { set_num_threads(saved); }
    int saved;
};

}  // namespace

TEST_CASE("copy_strided matches an element-by-element copy on random views", "[ops][view][copy]") {
    ThreadCount threads(2);
    std::mt19937_64 rng(20240611);
    auto pick = [&](std::int64_t n) { return static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(n)); };
    const std::int64_t extents[] = {1, 1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 33};
    for (int trial = 0; trial < 600; ++trial) {
        const DType dtype = kAllDTypes[trial % 6];
        const int rank = 1 + static_cast<int>(pick(6));
        // A base tensor, sliced with steps and offsets, maybe with an
        // extent-1 dimension expanded (stride 0), then permuted.
        Shape shape;
        for (int d = 0; d < rank; ++d) shape.push_back(extents[pick(12)]);
        if (pick(10) == 0) shape[static_cast<int>(pick(rank))] = 0;
        while (shape.numel() > 6000) shape[static_cast<int>(pick(rank))] = 2;
        std::vector<std::int64_t> steps(rank), starts(rank);
        Shape base_shape;
        for (int d = 0; d < rank; ++d) {
            steps[d] = pick(4) == 0 ? 1 + pick(3) : 1;
            starts[d] = pick(3) == 0 ? pick(3) : 0;
            base_shape.push_back(starts[d] + std::max<std::int64_t>(shape[d], 1) * steps[d]);
        }
        Tensor base = Tensor::empty(base_shape, dtype);
        randomize_storage(base, rng);
        Tensor src = base;
        for (int d = 0; d < rank; ++d) src = slice(src, d, starts[d], starts[d] + shape[d] * steps[d], steps[d]);
        REQUIRE(src.shape() == shape);
        const int expanded = static_cast<int>(pick(rank));
        if (pick(4) == 0 && shape[expanded] > 1) {
            src = expand(slice(src, expanded, 0, 1), shape);
        }
        std::vector<int> order(rank);
        std::iota(order.begin(), order.end(), 0);
        std::shuffle(order.begin(), order.end(), rng);
        src = permute(src, order);

        // The destination: a fresh contiguous tensor, or a strided
        // (sliced, permuted) window into a larger one.
        Tensor dst;
        if (pick(3) != 0) {
            dst = Tensor::empty(src.shape(), dtype);
        } else {
            Shape big = src.shape();
            for (int d = 0; d < rank; ++d) big[d] = big[d] * 2 + 1;
            std::vector<int> dst_order(rank);
            std::iota(dst_order.begin(), dst_order.end(), 0);
            std::shuffle(dst_order.begin(), dst_order.end(), rng);
            Shape permuted_big;
            for (int d = 0; d < rank; ++d) permuted_big.push_back(big[dst_order[d]]);
            Tensor holder = Tensor::empty(permuted_big, dtype);
            std::vector<int> inverse(rank);
            for (int d = 0; d < rank; ++d) inverse[dst_order[d]] = d;
            dst = permute(holder, inverse);
            for (int d = 0; d < rank; ++d) {
                const std::int64_t step = 1 + pick(2);
                dst = slice(dst, d, 1, 1 + src.size(d) * step, step);
            }
            REQUIRE(dst.shape() == src.shape());
        }
        randomize_storage(dst, rng);
        check_copy(dst, src);
    }
}

TEST_CASE("copy_strided handles the video layout changes and transposes of every dtype", "[ops][view][copy]") {
    ThreadCount threads(2);
    std::mt19937_64 rng(7);
    for (DType dtype : kAllDTypes) {
        Tensor x = Tensor::empty({2, 3, 5, 6, 7}, dtype);  // [B, T, C, H, W]
        randomize_storage(x, rng);
        for (const std::vector<int>& order : std::vector<std::vector<int>>{
                 {0, 3, 4, 1, 2}, {0, 3, 4, 2, 1}, {0, 2, 1, 3, 4}, {4, 3, 2, 1, 0}, {1, 0, 2, 3, 4}}) {
            Tensor moved = Tensor::empty(permute(x, order).shape(), dtype);
            check_copy(moved, permute(x, order));
            std::vector<int> inverse(order.size());
            for (std::size_t i = 0; i < order.size(); ++i) inverse[order[i]] = static_cast<int>(i);
            Tensor back = Tensor::empty(x.shape(), dtype);
            check_copy(back, permute(moved, inverse));
            CHECK(std::memcmp(back.raw_data(), x.raw_data(), x.nbytes()) == 0);
        }
        Tensor heads = Tensor::empty({37, 5, 3, 2, 16}, dtype);  // [tokens, T, qkv, heads, head_dim]
        randomize_storage(heads, rng);
        check_copy(Tensor::empty({3, 37, 2, 5, 16}, dtype), permute(heads, {2, 0, 3, 1, 4}));
        // 2-D transposes: whole SIMD blocks, tiles and ragged edges.
        for (std::int64_t rows : {1, 2, 15, 16, 17, 64, 65, 130, 257})
            for (std::int64_t cols : {1, 3, 8, 16, 31, 64, 67}) {
                Tensor m = Tensor::empty({rows, cols}, dtype);
                randomize_storage(m, rng);
                check_copy(Tensor::empty({cols, rows}, dtype), transpose(m, 0, 1));
            }
    }
}

TEST_CASE("copy_strided splits large copies across threads and keeps them exact", "[ops][view][copy]") {
    ThreadCount threads(2);
    std::mt19937_64 rng(11);
    for (DType dtype : {DType::Float32, DType::UInt8, DType::Float64}) {
        const std::int64_t width = static_cast<std::int64_t>(dtype_size(dtype));
        const std::int64_t grain = detail::kCopyGrainBytes / width;  // elements of one parallel chunk
        for (std::int64_t numel : {grain / 2, grain, grain + 1, 2 * grain + 7, 5 * grain}) {
            INFO("numel " << numel);
            // One long row (contiguous, and with a source step of 2).
            Tensor flat = Tensor::empty({2 * numel}, dtype);
            randomize_storage(flat, rng);
            check_copy(Tensor::empty({numel}, dtype), slice(flat, 0, 0, numel));
            check_copy(Tensor::empty({numel}, dtype), slice(flat, 0, 0, 2 * numel, 2));
            // Many short rows, and a transpose, of about the same size.
            const std::int64_t rows = std::max<std::int64_t>(numel / 48, 1);
            Tensor grid = Tensor::empty({3, rows, 16}, dtype);
            randomize_storage(grid, rng);
            check_copy(Tensor::empty({rows, 3, 16}, dtype), permute(grid, {1, 0, 2}));
            check_copy(Tensor::empty({16, rows, 3}, dtype), permute(grid, {2, 1, 0}));
        }
    }
}

TEST_CASE("copy_strided keeps the element order when views alias", "[ops][view][copy]") {
    std::mt19937_64 rng(3);
    for (DType dtype : kAllDTypes) {
        INFO(dtype_name(dtype));
        Tensor x = Tensor::empty({40}, dtype);
        randomize_storage(x, rng);
        // Shifting a buffer onto itself smears its first element forward.
        check_copy(slice(x, 0, 1, 40), slice(x, 0, 0, 39));
        check_copy(slice(x, 0, 0, 39), slice(x, 0, 1, 40));
        check_copy(x, x);
        // A stride-0 destination keeps the last element written.
        Tensor one = Tensor::empty({1}, dtype);
        Tensor src = Tensor::empty({2, 9}, dtype);
        randomize_storage(src, rng);
        check_copy(expand(reshape(one, {1, 1}), {2, 9}), src);
        CHECK(std::memcmp(one.raw_data(), static_cast<char*>(src.raw_data()) + 17 * dtype_size(dtype),
                          dtype_size(dtype)) == 0);
        // Transposing a square matrix in place through a view of itself.
        Tensor m = Tensor::empty({70, 70}, dtype);
        randomize_storage(m, rng);
        check_copy(m, transpose(m, 0, 1));
    }
}

TEST_CASE("copy_strided reads and writes negative strides", "[ops][view][copy]") {
    std::mt19937_64 rng(5);
    for (DType dtype : kAllDTypes) {
        Tensor x = Tensor::empty({6, 70}, dtype);
        randomize_storage(x, rng);
        // Both dimensions reversed, through Tensor::alias.
        Tensor flipped = x.alias({6, 70}, {-70, -1}, 6 * 70 - 1);
        check_copy(Tensor::empty({6, 70}, dtype), flipped);
        check_copy(Tensor::empty({70, 6}, dtype), transpose(flipped, 0, 1));
        Tensor out = Tensor::empty({6, 70}, dtype);
        check_copy(out.alias({70, 6}, {-1, 70}, 69), transpose(x, 0, 1));
    }
}

TEST_CASE("copy_strided rejects mismatched operands", "[ops][view][copy]") {
    CHECK_THROWS_WITH(detail::copy_strided(Tensor::empty({2, 3}), Tensor::empty({3, 2})),
                      Catch::Contains("copy") && Catch::Contains("[2, 3]") && Catch::Contains("[3, 2]"));
    CHECK_THROWS_WITH(detail::copy_strided(Tensor::empty({2}), Tensor::empty({2}, DType::Float64)),
                      Catch::Contains("copy") && Catch::Contains("float64"));
}

}  // namespace vgt::test::view_test
