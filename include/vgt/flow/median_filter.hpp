#pragma once
// Median filtering of flow fields (or any images) over square windows of
// (2r + 1)² pixels, r = 1, 2 or 3, borders replicated. Applied to the flow
// after each warping step it removes the outliers that a linearised data
// term leaves near motion boundaries, while keeping the boundaries
// themselves, which a Gaussian would smear (Sun, Roth and Black, "Secrets of
// optical flow estimation and their principles", CVPR 2010). No gradient.
//
// The median of a window comes from a selection network: Batcher's
// odd–even merge sort over the window's values (padded to a power of two
// with the largest representable value), keeping only the compare–exchanges
// that the middle output depends on. The network is built at compile time,
// so the kernel is a fixed sequence of min/max operations: no branch on the
// data (a median's comparisons are coin flips a branch predictor cannot
// learn) and no loop a GPU thread would diverge on.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>

#include "vgt/core/dispatch.hpp"
#include "vgt/core/error.hpp"
#include "vgt/core/macros.hpp"
#include "vgt/core/parallel.hpp"
#include "vgt/core/shape.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/flow/pixel_loop.hpp"
#include "vgt/flow/pyramid.hpp"

namespace vgt::flow {

/// The largest window radius median_filter takes (7 × 7 windows).
inline constexpr std::int64_t kMaxMedianRadius = 3;

namespace detail {

struct Comparator {
    int low, high;  // after it, wire low holds the minimum and wire high the maximum
};

/// Capacity for the networks built here (64 wires: Batcher uses 543 comparators).
inline constexpr int kMaxComparators = 1024;

struct ComparatorList {
    std::array<Comparator, kMaxComparators> list{};
    int size = 0;
};

/// The comparators of the selection network for the median of `values`
/// inputs: Batcher's odd–even merge sort on the next power of two, minus
/// the comparators that only move padding, minus those the middle output
/// does not depend on.
constexpr ComparatorList median_network(int values) {
    int wires = 1;
    while (wires < values) wires *= 2;
    ComparatorList sorter;
    for (int p = 1; p < wires; p *= 2)
        for (int k = p; k >= 1; k /= 2)
            for (int j = k % p; j + k < wires; j += 2 * k)
                for (int i = 0; i < k && i + j + k < wires; ++i)
                    if ((i + j) / (2 * p) == (i + j + k) / (2 * p)) sorter.list[sorter.size++] = {i + j, i + j + k};

    // Padding holds the largest value: a comparator whose high wire holds
    // padding leaves both wires as they are.
    std::array<bool, 64> padding{};
    for (int w = values; w < wires; ++w) padding[w] = true;
    ComparatorList moving;
    for (int c = 0; c < sorter.size; ++c) {
        const Comparator cmp = sorter.list[c];
        if (padding[cmp.high]) continue;
        moving.list[moving.size++] = cmp;
        padding[cmp.high] = padding[cmp.low];
        padding[cmp.low] = false;
    }

    // Backwards from the middle output: keep what it depends on.
    std::array<bool, 64> needed{};
    needed[values / 2] = true;
    std::array<bool, kMaxComparators> keep{};
    for (int c = moving.size - 1; c >= 0; --c) {
        const Comparator cmp = moving.list[c];
        if (needed[cmp.low] || needed[cmp.high]) {
            keep[c] = true;
            needed[cmp.low] = needed[cmp.high] = true;
        }
    }
    ComparatorList pruned;
    for (int c = 0; c < moving.size; ++c)
        if (keep[c]) pruned.list[pruned.size++] = moving.list[c];
    return pruned;
}

/// The network of a (2r + 1)² window as an array of its exact size.
template <int Radius>
struct MedianNetwork {
    static constexpr int values = (2 * Radius + 1) * (2 * Radius + 1);
    static constexpr ComparatorList built = median_network(values);
    static constexpr int wires = [] {
        int w = 1;
        while (w < values) w *= 2;
        return w;
    }();
    static constexpr std::array<Comparator, built.size> comparators = [] {
        std::array<Comparator, built.size> out{};
        for (int c = 0; c < built.size; ++c) out[c] = built.list[c];
        return out;
    }();
};

}  // namespace detail

namespace kernels {

/// Puts the smaller of v[Low], v[High] in v[Low] and the larger in v[High].
template <class T, int Low, int High>
VGT_HOST_DEVICE void compare_exchange(T* v) {
    const T a = v[Low], b = v[High];
    v[Low] = a < b ? a : b;
    v[High] = a < b ? b : a;
}

template <class T, int Radius, std::size_t Offset, std::size_t... C>
VGT_HOST_DEVICE void run_comparators(T* v, std::index_sequence<C...>) {
    using Network = detail::MedianNetwork<Radius>;
    (compare_exchange<T, Network::comparators[Offset + C].low, Network::comparators[Offset + C].high>(v), ...);
}

/// Runs a window's network on v, unrolled at compile time (in blocks of 64
/// comparators: compilers bound how many terms one fold expression may have).
template <class T, int Radius, std::size_t Offset = 0>
VGT_HOST_DEVICE void run_median_network(T* v) {
    constexpr std::size_t total = detail::MedianNetwork<Radius>::comparators.size();
    constexpr std::size_t block = total - Offset < 64 ? total - Offset : 64;
    run_comparators<T, Radius, Offset>(v, std::make_index_sequence<block>{});
    if constexpr (Offset + block < total) run_median_network<T, Radius, Offset + block>(v);
}

/// The median of each pixel's (2·Radius + 1)² window in [P, H, W] planes,
/// one call per pixel.
template <class T, int Radius>
struct MedianFilter {
    const T* in;
    T* out;
    std::int64_t h, w;
    VGT_HOST_DEVICE void operator()(std::int64_t n, std::int64_t y, std::int64_t x) const {
        using Network = detail::MedianNetwork<Radius>;
        T v[Network::wires];
        const T* plane = in + n * h * w;
        int k = 0;
        for (std::int64_t dy = -Radius; dy <= Radius; ++dy) {
            const T* row = plane + clamp_index(y + dy, h) * w;
            for (std::int64_t dx = -Radius; dx <= Radius; ++dx) v[k++] = row[clamp_index(x + dx, w)];
        }
        for (; k < Network::wires; ++k) v[k] = std::numeric_limits<T>::max();
        run_median_network<T, Radius>(v);
        out[(n * h + y) * w + x] = v[Network::values / 2];
    }
};

}  // namespace kernels

namespace detail {

/// `count` planes h × w at `in`, median-filtered into `out` (radius 0 copies).
template <class T>
void median_filter_planes(const T* in, T* out, std::int64_t count, std::int64_t h, std::int64_t w,
                          std::int64_t radius) {
    switch (radius) {
        case 0: std::copy(in, in + count * h * w, out); break;
        case 1: for_each_pixel(count, h, w, kernels::MedianFilter<T, 1>{in, out, h, w}); break;
        case 2: for_each_pixel(count, h, w, kernels::MedianFilter<T, 2>{in, out, h, w}); break;
        default: for_each_pixel(count, h, w, kernels::MedianFilter<T, 3>{in, out, h, w}); break;
    }
}

}  // namespace detail

/// Each plane of images [..., H, W] (a flow field filters each channel)
/// median-filtered over (2·radius + 1)² windows; radius in [0, 3], 0 copies.
inline Tensor median_filter(const Tensor& images, std::int64_t radius) {
    VGT_CHECK(radius >= 0 && radius <= kMaxMedianRadius, "median_filter", "expected a radius in [0, {}], found {}",
              kMaxMedianRadius, radius);
    const Tensor planes = detail::as_planes(images, "median_filter");
    Tensor out = Tensor::empty(images.shape(), images.dtype());
    dispatch_floating(planes, "median_filter", [&]<class T>() {
        detail::median_filter_planes(planes.data<T>(), out.data<T>(), planes.size(0), planes.size(1), planes.size(2),
                                     radius);
    });
    return out;
}

}  // namespace vgt::flow
