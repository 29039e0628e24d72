#pragma once
// Walking several operands of one logical shape, each with its own strides
// (stride 0 broadcasts), in parallel over rows. Adjacent dimensions that are
// laid out contiguously for every operand are merged first, so the common
// cases (same shape, or a broadcast bias) become one long inner loop.

#include <algorithm>
#include <array>
#include <cstdint>

#include "vgt/core/error.hpp"
#include "vgt/core/parallel.hpp"
#include "vgt/core/shape.hpp"
#include "vgt/core/tensor.hpp"

namespace vgt::detail {

/// The broadcast of two shapes (NumPy rules); an error names `op` and both.
inline Shape broadcast_shapes(const Shape& a, const Shape& b, std::string_view op) {
    const int rank = std::max(a.rank(), b.rank());
    Shape out = Shape::filled(rank, 1);
    for (int i = 0; i < rank; ++i) {
        const std::int64_t da = i < rank - a.rank() ? 1 : a[i - (rank - a.rank())];
        const std::int64_t db = i < rank - b.rank() ? 1 : b[i - (rank - b.rank())];
        VGT_CHECK(da == db || da == 1 || db == 1, op, "expected broadcastable shapes, found {} and {}", a, b);
        out[i] = da == 1 ? db : da;
    }
    return out;
}

/// Strides that read tensor `t` as if it had shape `shape` (stride 0 along
/// broadcast dimensions).
inline Strides broadcast_strides(const Tensor& t, const Shape& shape) {
    Strides s = Strides::filled(shape.rank(), 0);
    const int lead = shape.rank() - t.rank();
    for (int i = 0; i < t.rank(); ++i) s[lead + i] = t.size(i) == 1 ? 0 : t.strides()[i];
    return s;
}

template <int N>
struct StridedLayout {
    Shape shape;
    std::array<Strides, N> strides;
};

/// Drops extents of 1 and merges dimensions that are contiguous for all operands.
template <int N>
StridedLayout<N> coalesce(const Shape& shape, const std::array<Strides, N>& strides) {
    StridedLayout<N> out;
    for (int d = 0; d < shape.rank(); ++d) {
        if (shape[d] == 1) continue;
        const int last = out.shape.rank() - 1;
        bool merge = last >= 0;
        for (int k = 0; k < N && merge; ++k) merge = out.strides[k][last] == strides[k][d] * shape[d];
        if (merge) {
            out.shape[last] *= shape[d];
            for (int k = 0; k < N; ++k) out.strides[k][last] = strides[k][d];
        } else {
            out.shape.push_back(shape[d]);
            for (int k = 0; k < N; ++k) out.strides[k].push_back(strides[k][d]);
        }
    }
    if (out.shape.rank() == 0) {
        out.shape.push_back(1);
        for (int k = 0; k < N; ++k) out.strides[k].push_back(0);
    }
    return out;
}

/// Calls row(offsets, count, inner_strides) for every row of the innermost
/// dimension, where offsets[k] is operand k's element offset at the row's
/// start. Rows run in parallel; each row is handled by one thread.
template <int N, class Row>
void strided_loop(const Shape& shape, const std::array<Strides, N>& strides, Row&& row) {
    if (shape.numel() == 0) return;
    const StridedLayout<N> layout = coalesce<N>(shape, strides);
    const int rank = layout.shape.rank();
    const std::int64_t inner = layout.shape[rank - 1];
    const std::int64_t rows = layout.shape.numel() / inner;
    std::array<std::int64_t, N> inner_strides;
    for (int k = 0; k < N; ++k) inner_strides[k] = layout.strides[k][rank - 1];
    const std::int64_t grain = std::max<std::int64_t>(1, 16384 / inner);
    parallel_for_chunks(0, rows, grain, [&](std::int64_t lo, std::int64_t hi) {
        for (std::int64_t r = lo; r < hi; ++r) {
            std::array<std::int64_t, N> offsets{};
            std::int64_t rest = r;
            for (int d = rank - 2; d >= 0; --d) {
                const std::int64_t i = rest % layout.shape[d];
                rest /= layout.shape[d];
                for (int k = 0; k < N; ++k) offsets[k] += i * layout.strides[k][d];
            }
            row(offsets, inner, inner_strides);
        }
    });
}

}  // namespace vgt::detail
