#pragma once
// Copying between strided views of one shape and dtype: the kernel under
// contiguous(), reshape of a non-contiguous tensor, pad, concat and every
// layout change of a video. Dimensions contiguous in both operands are
// merged; rows go through memcpy, transposes through cache-sized tiles, and
// large copies are split over the thread pool. Deliberately overlapping
// views keep the defining element-by-element order.

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <utility>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "vgt/core/dispatch.hpp"
#include "vgt/core/error.hpp"
#include "vgt/core/parallel.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/cuda/tensor_ops.hpp"
#include "vgt/ops/strided_loop.hpp"

namespace vgt::detail {

/// The smallest copy worth handing a thread: below this, waking the pool
/// costs more than the copy.
inline constexpr std::int64_t kCopyGrainBytes = std::int64_t{1} << 18;

/// True when no two elements of a view share memory. A sufficient test:
/// taken by increasing |stride|, each dimension steps past everything the
/// smaller ones span (so stride 0 along an extent above 1 fails it).
inline bool elements_are_distinct(const Shape& shape, const Strides& strides) {
    std::array<std::int64_t, kMaxRank> steps{};
    std::array<std::int64_t, kMaxRank> extents{};
    int rank = 0;
    for (int d = 0; d < shape.rank(); ++d) {
        if (shape[d] == 1) continue;
        int i = rank++;
        for (; i > 0 && steps[i - 1] > std::abs(strides[d]); --i) {
            steps[i] = steps[i - 1];
            extents[i] = extents[i - 1];
        }
        steps[i] = std::abs(strides[d]);
        extents[i] = shape[d];
    }
    std::int64_t span = 0;
    for (int i = 0; i < rank; ++i) {
        if (steps[i] <= span) return false;
        span += (extents[i] - 1) * steps[i];
    }
    return true;
}

/// Whether two non-empty views of one dtype may share memory (compares the
/// element ranges they reach, so interleaved views count as overlapping).
inline bool may_overlap(const Tensor& a, const Tensor& b) {
    if (!a.same_storage(b)) return false;
    auto range = [](const Tensor& t) {
        std::pair<std::int64_t, std::int64_t> lo_hi{t.offset(), t.offset()};
        for (int d = 0; d < t.rank(); ++d) {
            const std::int64_t reach = (t.size(d) - 1) * t.strides()[d];
            (reach < 0 ? lo_hi.first : lo_hi.second) += reach;
        }
        return lo_hi;
    };
    const auto [a_lo, a_hi] = range(a);
    const auto [b_lo, b_hi] = range(b);
    return a_lo <= b_hi && b_lo <= a_hi;
}

/// Calls body(index, dst_offset, src_offset) for the flat indices [lo, hi)
/// of a two-operand nest, in row-major order (offsets in elements).
template <class Body>
void for_each_nest_index(const StridedLayout<2>& nest, std::int64_t lo, std::int64_t hi, Body&& body) {
    const int rank = nest.shape.rank();
    std::array<std::int64_t, kMaxRank> index{};
    std::int64_t dst_off = 0;
    std::int64_t src_off = 0;
    std::int64_t rest = lo;
    for (int d = rank - 1; d >= 0; --d) {
        index[d] = rest % nest.shape[d];
        rest /= nest.shape[d];
        dst_off += index[d] * nest.strides[0][d];
        src_off += index[d] * nest.strides[1][d];
    }
    for (std::int64_t i = lo; i < hi; ++i) {
        body(index, dst_off, src_off);
        for (int d = rank - 1; d >= 0; --d) {
            if (++index[d] < nest.shape[d]) {
                dst_off += nest.strides[0][d];
                src_off += nest.strides[1][d];
                break;
            }
            index[d] = 0;
            dst_off -= (nest.shape[d] - 1) * nest.strides[0][d];
            src_off -= (nest.shape[d] - 1) * nest.strides[1][d];
        }
    }
}

// The copy kernels move W-byte elements through memcpy, which compiles to
// one load and one store and is valid whatever type the bytes hold.

/// n elements from src (stride ss) to dst (stride ds); strides in elements.
template <std::size_t W>
void copy_row(char* dst, const char* src, std::int64_t n, std::int64_t ds, std::int64_t ss) {
    if (ds == 1 && ss == 1) {
        // Short rows (a head of a split attention layout, say) are too many
        // to pay for a call to memcpy each.
        const std::int64_t bytes = n * static_cast<std::int64_t>(W);
        if (bytes >= 256) {
            std::memcpy(dst, src, static_cast<std::size_t>(bytes));
            return;
        }
        std::int64_t i = 0;
#if defined(__SSE2__)
        for (; i + 16 <= bytes; i += 16)
            _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i),
                             _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i)));
#endif
        for (; i < bytes; i += W) std::memcpy(dst + i, src + i, W);
    } else if (ds == 1) {
        for (std::int64_t i = 0; i < n; ++i) std::memcpy(dst + i * W, src + i * ss * W, W);
    } else {
        for (std::int64_t i = 0; i < n; ++i) std::memcpy(dst + i * ds * W, src + i * ss * W, W);
    }
}

#if defined(__SSE2__)
template <std::size_t U>
inline __m128i unpack_low(__m128i a, __m128i b) {
    if constexpr (U == 1) return _mm_unpacklo_epi8(a, b);
    if constexpr (U == 2) return _mm_unpacklo_epi16(a, b);
    if constexpr (U == 4) return _mm_unpacklo_epi32(a, b);
    if constexpr (U == 8) return _mm_unpacklo_epi64(a, b);
}
template <std::size_t U>
inline __m128i unpack_high(__m128i a, __m128i b) {
    if constexpr (U == 1) return _mm_unpackhi_epi8(a, b);
    if constexpr (U == 2) return _mm_unpackhi_epi16(a, b);
    if constexpr (U == 4) return _mm_unpackhi_epi32(a, b);
    if constexpr (U == 8) return _mm_unpackhi_epi64(a, b);
}

/// L rows of 16 bytes.
template <std::size_t L>
struct Rows128 {
    __m128i row[L];
};

/// Interleaves rows 2i and 2i+1 in U-byte units, then again at twice the
/// width, up to 8 bytes; the lower halves go to row i, the upper to i + L/2.
template <std::size_t U, std::size_t L, std::size_t... I>
inline void interleave_rows(Rows128<L>& rows, std::index_sequence<I...> pairs) {
    const Rows128<L> in = rows;
    ((rows.row[I] = unpack_low<U>(in.row[2 * I], in.row[2 * I + 1]),
      rows.row[I + L / 2] = unpack_high<U>(in.row[2 * I], in.row[2 * I + 1])),
     ...);
    if constexpr (2 * U < 16) interleave_rows<2 * U>(rows, pairs);
}

constexpr std::size_t reverse_bits(std::size_t value, std::size_t count) {
    std::size_t out = 0;
    for (std::size_t b = 0; b < count; ++b) out |= ((value >> b) & 1) << (count - 1 - b);
    return out;
}

/// Transposes one block of L = 16 / W rows of 16 bytes (W-byte elements),
/// rows `in_pitch` bytes apart, into out[0..L) + out_offset bytes. The
/// interleaving rounds leave transposed row r in register reverse_bits(r).
template <std::size_t W, std::size_t... I>
inline void transpose_block(char* const* out, std::int64_t out_offset, const char* in, std::int64_t in_pitch,
                            std::index_sequence<I...>) {
    constexpr std::size_t L = 16 / W;
    constexpr std::size_t bits = W == 1 ? 4 : W == 2 ? 3 : W == 4 ? 2 : 1;
    Rows128<L> rows{{_mm_loadu_si128(reinterpret_cast<const __m128i*>(in + I * in_pitch))...}};
    interleave_rows<W>(rows, std::make_index_sequence<L / 2>{});
    (_mm_storeu_si128(reinterpret_cast<__m128i*>(out[reverse_bits(I, bits)] + out_offset), rows.row[I]), ...);
}
#endif

/// One tile of a transposing copy, na x nj elements (at most TA x TJ):
/// element (a, j) is read from src[j_src[j] + a * ssa] and written to
/// dst[a_dst[a] + j * dsj] (offsets in elements). Staged through a buffer,
/// one source row and one destination row at a time: with page-multiple
/// strides the rows of a tile share cache sets and would evict each other.
template <std::size_t W, std::int64_t TA, std::int64_t TJ>
void copy_tile(char* dst, const char* src, std::int64_t na, std::int64_t nj, const std::int64_t* a_dst,
               std::int64_t ssa, const std::int64_t* j_src, std::int64_t dsj) {
    // buffer row j holds source elements (0..na, j)
    alignas(64) char buffer[TA * TJ * W];
    for (std::int64_t j = 0; j < nj; ++j) {
        const char* s = src + j_src[j] * W;
        char* b = buffer + j * TA * W;
        if (ssa == 1) {
            std::memcpy(b, s, static_cast<std::size_t>(na) * W);
        } else {
            for (std::int64_t a = 0; a < na; ++a) std::memcpy(b + a * W, s + a * ssa * W, W);
        }
    }
    std::int64_t a = 0;
#if defined(__SSE2__)
    if (dsj == 1) {
        constexpr std::int64_t L = 16 / W;
        for (; a + L <= na; a += L) {
            char* rows[L];
            for (std::int64_t r = 0; r < L; ++r) rows[r] = dst + a_dst[a + r] * W;
            std::int64_t j = 0;
            for (; j + L <= nj; j += L)
                transpose_block<W>(rows, j * W, buffer + (j * TA + a) * W, TA * W, std::make_index_sequence<L>{});
            for (std::int64_t r = 0; r < L; ++r)
                for (std::int64_t k = j; k < nj; ++k) std::memcpy(rows[r] + k * W, buffer + (k * TA + a + r) * W, W);
        }
    }
#endif
    for (; a < na; ++a) {
        char* d = dst + a_dst[a] * W;
        const char* b = buffer + a * W;
        for (std::int64_t j = 0; j < nj; ++j) std::memcpy(d + j * dsj * W, b + j * TA * W, W);
    }
}

/// The dimensions d of `nest` for which keep(d) holds.
inline StridedLayout<2> sub_nest(const StridedLayout<2>& nest, auto&& keep) {
    StridedLayout<2> out;
    for (int d = 0; d < nest.shape.rank(); ++d) {
        if (!keep(d)) continue;
        out.shape.push_back(nest.shape[d]);
        out.strides[0].push_back(nest.strides[0][d]);
        out.strides[1].push_back(nest.strides[1][d]);
    }
    return out;
}

/// The same nest with its dimensions ordered by the strides of `operand`
/// (0: destination, 1: source), largest magnitude first.
inline StridedLayout<2> sorted_by_stride(const StridedLayout<2>& nest, int operand) {
    std::array<int, kMaxRank> order{};
    const int rank = nest.shape.rank();
    for (int d = 0; d < rank; ++d) order[d] = d;
    const Strides& key = nest.strides[operand];
    std::stable_sort(order.begin(), order.begin() + rank,
                     [&](int l, int r) { return std::abs(key[l]) > std::abs(key[r]); });
    StridedLayout<2> out;
    for (int i = 0; i < rank; ++i) {
        out.shape.push_back(nest.shape[order[i]]);
        out.strides[0].push_back(nest.strides[0][order[i]]);
        out.strides[1].push_back(nest.strides[1][order[i]]);
    }
    return out;
}

/// out[k] = the offset in `operand` (0: destination, 1: source) of row-major
/// index first + k of `nest`, for k in [0, count).
inline void group_offsets(const StridedLayout<2>& nest, int operand, std::int64_t first, std::int64_t count,
                          std::int64_t* out) {
    if (nest.shape.rank() == 1) {
        const std::int64_t stride = nest.strides[operand][0];
        for (std::int64_t k = 0; k < count; ++k) out[k] = (first + k) * stride;
        return;
    }
    for_each_nest_index(nest, first, first + count, [&](const auto&, std::int64_t d_off, std::int64_t s_off) {
        *out++ = operand == 0 ? d_off : s_off;
    });
}

/// Copies a coalesced nest (dimensions ordered by destination stride, the
/// smallest last) whose destination elements are distinct and apart from
/// the source.
template <std::size_t W>
void copy_nest(char* dst, const char* src, const StridedLayout<2>& nest) {
    const int inner = nest.shape.rank() - 1;
    const std::int64_t n = nest.shape[inner];
    const std::int64_t ds = nest.strides[0][inner];
    const std::int64_t ss = nest.strides[1][inner];
    // The dimension the source walks fastest, when that is not the inner one
    // (a broadcast dimension, stride 0, reads one element and needs no tile).
    int a = -1;
    for (int d = 0; d < inner; ++d) {
        const std::int64_t step = std::abs(nest.strides[1][d]);
        if (step != 0 && step < std::abs(a < 0 ? ss : nest.strides[1][a])) a = d;
    }
    // A source stride within a cache line reads well enough row by row;
    // beyond it, rows would touch a new line per element, so copy in tiles
    // that read along `a` and write along the inner dimension.
    if (a < 0 || std::abs(ss) * static_cast<std::int64_t>(W) <= 64) {
        if (inner == 0) {
            const std::int64_t grain = kCopyGrainBytes / static_cast<std::int64_t>(W);
            parallel_for_chunks(0, n, grain, [&](std::int64_t lo, std::int64_t hi) {
                copy_row<W>(dst + lo * ds * W, src + lo * ss * W, hi - lo, ds, ss);
            });
            return;
        }
        StridedLayout<2> rows = sub_nest(nest, [&](int d) { return d < inner; });
        // Rows contiguous on both sides: walk them in source order. Reading
        // sequentially and writing whole rows scattered beats the reverse
        // (the hardware prefetches reads; stores drain through a buffer).
        if (ds == 1 && ss == 1) rows = sorted_by_stride(rows, 1);
        const std::int64_t grain = std::max<std::int64_t>(1, kCopyGrainBytes / (n * static_cast<std::int64_t>(W)));
        parallel_for_chunks(0, rows.shape.numel(), grain, [&](std::int64_t lo, std::int64_t hi) {
            for_each_nest_index(rows, lo, hi, [&](const auto&, std::int64_t d_off, std::int64_t s_off) {
                copy_row<W>(dst + d_off * W, src + s_off * W, n, ds, ss);
            });
        });
        return;
    }
    // A tile pairs a run of the source with a run of the destination. The
    // destination side J is the inner dimension, extended outwards by the
    // dimensions that continue its contiguous run in the destination; the
    // source side A is `a`, extended by those that continue its run in the
    // source. Each grows until it spans a tile, so that tile rows are long
    // contiguous runs on both sides even when single extents are short.
    constexpr std::int64_t tile_a = 256 / static_cast<std::int64_t>(W);
    constexpr std::int64_t tile_j = 64;
    std::array<bool, kMaxRank> grouped{};
    std::array<int, kMaxRank> j_dims{};  // fastest first
    int j_count = 0;
    std::int64_t j_run = 1;
    for (int d = inner; d >= 0 && d != a && j_run < tile_j; --d) {
        if (d < inner && nest.strides[0][d] != nest.strides[0][d + 1] * nest.shape[d + 1]) break;
        j_dims[j_count++] = d;
        grouped[d] = true;
        j_run *= nest.shape[d];
    }
    std::array<int, kMaxRank> a_dims{};  // fastest first
    int a_count = 0;
    std::int64_t a_run = 1;
    for (int d = a; d >= 0 && a_run < tile_a;) {
        a_dims[a_count++] = d;
        grouped[d] = true;
        a_run *= nest.shape[d];
        const std::int64_t next_stride = nest.strides[1][d] * nest.shape[d];
        d = -1;
        for (int e = 0; e < inner && d < 0; ++e)
            if (!grouped[e] && nest.strides[1][e] == next_stride) d = e;
    }
    // Each group as a row-major nest (slowest first) to enumerate its rows.
    auto group_nest = [&](const std::array<int, kMaxRank>& dims, int count) {
        StridedLayout<2> group;
        for (int i = count - 1; i >= 0; --i) {
            group.shape.push_back(nest.shape[dims[i]]);
            group.strides[0].push_back(nest.strides[0][dims[i]]);
            group.strides[1].push_back(nest.strides[1][dims[i]]);
        }
        return group;
    };
    const StridedLayout<2> a_group = group_nest(a_dims, a_count);
    const StridedLayout<2> j_group = group_nest(j_dims, j_count);
    // Work items: the other dimensions (in destination order), then blocks of
    // A (which step the source by whole runs) and of J (the destination).
    const std::int64_t ssa = nest.strides[1][a];
    StridedLayout<2> items = sub_nest(nest, [&](int d) { return !grouped[d]; });
    const int a_block = items.shape.rank();
    items.shape.push_back((a_run + tile_a - 1) / tile_a);
    items.strides[0].push_back(0);
    items.strides[1].push_back(tile_a * ssa);
    items.shape.push_back((j_run + tile_j - 1) / tile_j);
    items.strides[0].push_back(tile_j * ds);
    items.strides[1].push_back(0);
    const std::int64_t grain = std::max<std::int64_t>(1, kCopyGrainBytes / (tile_a * tile_j * W));
    parallel_for_chunks(0, items.shape.numel(), grain, [&](std::int64_t lo, std::int64_t hi) {
        std::array<std::int64_t, tile_a> a_dst;
        std::array<std::int64_t, tile_j> j_src;
        for_each_nest_index(items, lo, hi, [&](const auto& index, std::int64_t d_off, std::int64_t s_off) {
            const std::int64_t a_first = index[a_block] * tile_a;
            const std::int64_t j_first = index[a_block + 1] * tile_j;
            const std::int64_t rows = std::min(tile_a, a_run - a_first);
            const std::int64_t cols = std::min(tile_j, j_run - j_first);
            group_offsets(a_group, 0, a_first, rows, a_dst.data());
            group_offsets(j_group, 1, j_first, cols, j_src.data());
            copy_tile<W, tile_a, tile_j>(dst + d_off * W, src + s_off * W, rows, cols, a_dst.data(), ssa,
                                         j_src.data(), ds);
        });
    });
}

/// One element at a time in row-major order, on the calling thread: the
/// defining order, kept for destinations that overlap themselves or src.
template <std::size_t W>
void copy_in_order(char* dst, const char* src, const StridedLayout<2>& nest) {
    for_each_nest_index(nest, 0, nest.shape.numel(), [&](const auto&, std::int64_t d_off, std::int64_t s_off) {
        std::memmove(dst + d_off * W, src + s_off * W, W);
    });
}

/// Copies src into dst element by element, in row-major order; shapes must
/// match, strides may differ. Destinations whose elements are distinct and
/// apart from src (all but deliberate aliasing) take a coalesced, tiled and
/// parallel path with the same result.
inline void copy_strided(const Tensor& dst, const Tensor& src) {
    VGT_CHECK(dst.shape() == src.shape(), "copy", "expected equal shapes, found {} and {}", dst.shape(), src.shape());
    VGT_CHECK(dst.dtype() == src.dtype(), "copy", "expected equal dtypes, found {} and {}", dtype_name(dst.dtype()),
              dtype_name(src.dtype()));
    if (dst.numel() == 0) return;
    if (!dst.device().is_cpu() || !src.device().is_cpu()) {
        // A GPU thread per element: a destination that repeats an element,
        // or overlaps its source, would have no defined order.
        VGT_CHECK(elements_are_distinct(dst.shape(), dst.strides()) && !may_overlap(dst, src), "copy",
                  "expected a CUDA destination of distinct elements apart from its source, found strides {} over {}",
                  dst.strides(), dst.shape());
        cuda::copy(dst, src);
        return;
    }
    const std::size_t width = dtype_size(src.dtype());
    char* dst_data = static_cast<char*>(dst.raw_data());
    const char* src_data = static_cast<const char*>(src.raw_data());
    auto by_width = [&](auto kernel, const StridedLayout<2>& nest) {
        switch (width) {
            case 1: kernel.template operator()<1>(nest); break;
            case 2: kernel.template operator()<2>(nest); break;
            case 4: kernel.template operator()<4>(nest); break;
            case 8: kernel.template operator()<8>(nest); break;
            default: fail("copy", "expected elements of 1, 2, 4 or 8 bytes, found {}", width);
        }
    };
    if (!elements_are_distinct(dst.shape(), dst.strides()) || may_overlap(dst, src)) {
        const StridedLayout<2> nest{dst.shape(), {dst.strides(), src.strides()}};
        by_width([&]<std::size_t W>(const StridedLayout<2>& n) { copy_in_order<W>(dst_data, src_data, n); }, nest);
        return;
    }
    // With distinct destinations the visiting order is free: walk the
    // destination from its largest stride to its smallest, and merge
    // dimensions laid out contiguously in both.
    const StridedLayout<2> nest = sorted_by_stride({dst.shape(), {dst.strides(), src.strides()}}, 0);
    by_width([&]<std::size_t W>(const StridedLayout<2>& n) { copy_nest<W>(dst_data, src_data, n); },
             coalesce<2>(nest.shape, nest.strides));
}

}  // namespace vgt::detail
