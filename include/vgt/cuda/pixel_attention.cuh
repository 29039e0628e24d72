#pragma once
// Fused attention over the frames of every pixel on the GPU (the CUDA side
// of ops/pixel_attention.hpp), in the video layout: packed qkv
// [B, T, 3C, P] in, [B, T, C, P] out, P = H·W pixels. Read by backend.cu only.
//
// Why this shape of kernel. T is short (≤ 64) and there are B·H·W·heads
// independent sequences, so one thread owns whole query rows of one pixel:
// its T scores, their softmax and its output row stay in registers. Threads
// of a warp take 32 neighbouring pixels, so every global access is a
// contiguous run of a channel row. Keys and values are staged in shared
// memory a few channels at a time, so each element of q, k and v is read
// from device memory once and the output written once: the forward pass
// moves the fewest bytes it can (float32 reached 62 % of the copy bandwidth
// on an H100; benchmarks/README.md).
//
// Storage is float, double or bfloat16; arithmetic is float (double for
// double). For bfloat16 up to 16 frames without rotary tables the launcher
// takes the tensor-core forward pass instead
// (pixel_attention_tensor_cores.cuh). The forward pass saves the
// log-sum-exp of each query row; the backward pass recomputes the weights
// from it rather than storing T·T weights per pixel, and runs in three
// kernels: query-side gradients (dq, and the weights and score gradients
// into a workspace), key-side gradients (dk, dv) from that workspace, and
// the bias gradient as a sum over batch and pixels in a fixed order.
//
// RoPE and XPos turn channel pairs (2i, 2i+1) of q and k by per-frame
// tables: the kernels rotate q and k as they load them, and turn the
// gradients back with the transposed rotation.

#include <cstdint>

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include "vgt/cuda/launchers.hpp"

namespace vgt::cuda::attention {

/// Threads of a block: 32 pixels × 8 rows.
constexpr int kPixels = 32;
constexpr int kRows = 8;
constexpr int kThreads = kPixels * kRows;

template <class S>
struct AccumulateOf {
    using type = float;
};
template <>
struct AccumulateOf<double> {
    using type = double;
};

/// Stored values widened to the arithmetic type. The kernels keep loaded
/// values in their storage type until they are used, so that no conversion
/// waits on a load while later loads could still be issued.
__device__ inline float widen(float x) { return x; }
__device__ inline double widen(double x) { return x; }
__device__ inline float widen(__nv_bfloat16 x) { return __bfloat162float(x); }
template <class S>
__device__ inline S storage_zero() {
    return S(0);
}
template <>
__device__ inline __nv_bfloat16 storage_zero<__nv_bfloat16>() {
    return __ushort_as_bfloat16(0);
}

__device__ inline void store(float* p, float v) { *p = v; }
__device__ inline void store(double* p, double v) { *p = v; }
__device__ inline void store(__nv_bfloat16* p, float v) { *p = __float2bfloat16_rn(v); }

// The accurate functions: the fast intrinsics' error grows with |x| and
// would show in the weights of distant scores.
__device__ inline float exp_of(float x) { return expf(x); }
__device__ inline double exp_of(double x) { return exp(x); }
__device__ inline float log_of(float x) { return logf(x); }
__device__ inline double log_of(double x) { return log(x); }

/// Whether the kernels load each step of channels while computing on the
/// previous one (for_each_step), and how many blocks per multiprocessor the
/// compiler must leave registers for: chosen by benchmarks/attention_variants.cu
/// on an H100, where two blocks per SM mattered and pipelining did not.
constexpr bool kPipelined = false;
constexpr int kMinBlocks = 2;

/// Keys per score row (the smallest supported bound ≥ T), queries per
/// thread, and channels staged per step (a tile of stage·Keys·kPixels).
template <int Keys>
struct Tiling {
    static constexpr int per_thread = Keys <= 16 ? 2 : 1;
    static constexpr int rows_per_block = kRows * per_thread;  // queries (or keys) of one block
    static constexpr int stage = 128 / Keys;                   // even: rotary pairs stay together
};

/// The [B, heads, T, T, P] workspace planes and the [B, heads, T, P] log-sum-exp.
struct Planes {
    std::int64_t frames, pixels;
    __device__ std::int64_t pair(std::int64_t bh, std::int64_t t, std::int64_t key, std::int64_t p) const {
        return ((bh * frames + t) * frames + key) * pixels + p;
    }
    __device__ std::int64_t row(std::int64_t bh, std::int64_t t, std::int64_t p) const {
        return (bh * frames + t) * pixels + p;
    }
};

/// The rotary tables [4, T, d/2]: cos and sin for queries, then for keys.
template <class A>
struct Rotary {
    const A* table;
    int frames, pairs;
    /// Turns the pair (j, j + 1) of frame t by the tables of `which` (0:
    /// queries, 1: keys), or back by the transposed turn (a gradient's);
    /// nothing without tables.
    __device__ void turn(int which, int t, int j, A& even, A& odd, bool back = false) const {
        if (!table) return;
        const A c = table[((2 * which) * frames + t) * pairs + j / 2];
        const A sn = back ? -table[((2 * which + 1) * frames + t) * pairs + j / 2]
                          : table[((2 * which + 1) * frames + t) * pairs + j / 2];
        const A e = even;
        even = e * c - odd * sn;
        odd = e * sn + odd * c;
    }
};

/// Where a block works: batch and head, its tile of 32 pixels, and the frames
/// of this thread's rows (queries, or keys in the key-side kernel).
template <int Keys>
struct Place {
    static constexpr int rows = Tiling<Keys>::per_thread;
    std::int64_t bh, b, h;
    int p0, p;
    int frame[rows];
    bool active[rows];
    __device__ explicit Place(const PixelAttentionShape& s) {
        bh = blockIdx.y;
        b = bh / s.heads;
        h = bh % s.heads;
        p0 = static_cast<int>(blockIdx.x) * kPixels;
        p = p0 + static_cast<int>(threadIdx.x);
#pragma unroll
        for (int k = 0; k < rows; ++k) {
            frame[k] = static_cast<int>(blockIdx.z) * Tiling<Keys>::rows_per_block + static_cast<int>(threadIdx.y) +
                       k * kRows;
            active[k] = p < s.pixels && frame[k] < s.frames;
        }
    }
};

/// The channel rows of one head of one video, [T, d, P] with a frame
/// stride: a part of the packed projection (q, k or v), the output, or a
/// gradient. The op checks that T·3C·P fits 32-bit offsets, so that only
/// the block's base pointer needs 64-bit arithmetic.
template <class Pointer>
struct HeadRows {
    Pointer data;
    int frame_stride, pixels, dim;
    __device__ Pointer at(int t, int j, int p) const { return data + t * frame_stride + j * pixels + p; }
};

/// Part `part` (0 q, 1 k, 2 v) of the packed projection, for the block's head.
template <class Pointer, int Keys>
__device__ HeadRows<Pointer> packed_rows(const PixelAttentionShape& s, Pointer qkv, const Place<Keys>& place,
                                         int part) {
    const std::int64_t dim = s.channels / s.heads;
    return {qkv + ((place.b * s.frames) * 3 * s.channels + part * s.channels + place.h * dim) * s.pixels,
            static_cast<int>(3 * s.channels * s.pixels), static_cast<int>(s.pixels), static_cast<int>(dim)};
}

/// The block's head of a [B, T, C, P] tensor (the output or its gradient).
template <class Pointer, int Keys>
__device__ HeadRows<Pointer> output_rows(const PixelAttentionShape& s, Pointer out, const Place<Keys>& place) {
    const std::int64_t dim = s.channels / s.heads;
    return {out + ((place.b * s.frames) * s.channels + place.h * dim) * s.pixels,
            static_cast<int>(s.channels * s.pixels), static_cast<int>(s.pixels), static_cast<int>(dim)};
}

/// An operand of a product: rows read as the arithmetic type and turned by
/// the rotary tables of `which` (0: queries, 1: keys) when they are given.
template <class S, class A>
struct Source {
    HeadRows<const S*> rows;
    Rotary<A> rotary;
    int which;
    /// Channels j and j + 1 of frame t (zero past d), as stored: widening
    /// and the turn come later, so that the loads stay in flight meanwhile.
    __device__ void load_pair(int t, int j, int p, S& even, S& odd) const {
        const S* x = rows.at(t, j, p);
        even = *x;
        odd = j + 1 < rows.dim ? x[rows.pixels] : storage_zero<S>();
    }
    /// Turns the pair (j, j + 1) of frame t by the tables, when given.
    __device__ void turn(int t, int j, A& even, A& odd) const { rotary.turn(which, t, j, even, odd); }
};

/// One step of channels [j0, j0 + stage) of every frame of a source, held
/// in registers from its loads until it is stored to shared memory as
/// tile[jj][frame][pixel] (zeros past T, d or P). Loading step j + 1 before
/// computing on step j keeps the memory latency behind the arithmetic.
template <int Keys, class S, class A>
struct TileStage {
    static constexpr int pairs = (Tiling<Keys>::stage / 2) * Keys * kPixels / kThreads;
    static_assert(pairs * kThreads == (Tiling<Keys>::stage / 2) * Keys * kPixels);
    S even[pairs], odd[pairs];

    /// Pixel, frame and pair of channels of this thread's i-th element.
    __device__ static void position(int i, int& px, int& t, int& pr) {
        const int idx = static_cast<int>(threadIdx.y * kPixels + threadIdx.x) + i * kThreads;
        px = idx % kPixels;
        t = (idx / kPixels) % Keys;
        pr = idx / (kPixels * Keys);
    }
    __device__ void load(const Source<S, A>& src, int frames, int pixels, int p0, int j0) {
#pragma unroll
        for (int i = 0; i < pairs; ++i) {
            int px, t, pr;
            position(i, px, t, pr);
            const int j = j0 + 2 * pr;
            even[i] = odd[i] = storage_zero<S>();
            if (t < frames && p0 + px < pixels && j < src.rows.dim) src.load_pair(t, j, p0 + px, even[i], odd[i]);
        }
    }
    __device__ void store(A (*tile)[Keys][kPixels], const Source<S, A>& src, int frames, int j0) const {
#pragma unroll
        for (int i = 0; i < pairs; ++i) {
            int px, t, pr;
            position(i, px, t, pr);
            A e = widen(even[i]), o = widen(odd[i]);
            if (t < frames && j0 + 2 * pr < src.rows.dim) src.turn(t, j0 + 2 * pr, e, o);
            tile[2 * pr][t][px] = e;
            tile[2 * pr + 1][t][px] = o;
        }
    }
};

/// Walks the channels a step at a time: each step's tile of every frame of
/// `col` goes to shared memory, take() claims what prefetch() loaded for
/// the step, and body(j0) computes on it. Pipelined, the next step's loads
/// (the tile's and prefetch(next)'s) are issued before body(j0), so that
/// their latency hides behind its arithmetic, at the cost of the registers
/// that hold them; otherwise each step issues all its loads at once and
/// waits for them once.
template <int Keys, bool Pipelined, class S, class A, class Prefetch, class Take, class Body>
__device__ void for_each_step(A (*tile)[Keys][kPixels], const PixelAttentionShape& s, const Place<Keys>& place,
                              const Source<S, A>& col, Prefetch&& prefetch, Take&& take, Body&& body) {
    constexpr int stage = Tiling<Keys>::stage;
    const int frames = static_cast<int>(s.frames), pixels = static_cast<int>(s.pixels), dim = col.rows.dim;
    TileStage<Keys, S, A> staged;
    if constexpr (Pipelined) {
        staged.load(col, frames, pixels, place.p0, 0);
        prefetch(0);
    }
    for (int j0 = 0; j0 < dim; j0 += stage) {
        if constexpr (!Pipelined) {
            staged.load(col, frames, pixels, place.p0, j0);
            prefetch(j0);
        }
        __syncthreads();  // the previous step's readers are done with the tile
        staged.store(tile, col, frames, j0);
        take();
        __syncthreads();
        if constexpr (Pipelined) {
            if (j0 + stage < dim) {
                staged.load(col, frames, pixels, place.p0, j0 + stage);
                prefetch(j0 + stage);
            }
        }
        body(j0);
    }
}

/// acc[k][f] += row_k · tile_f over all channels, where row_k is frame
/// place.frame[k] of `row` and tile_f frame f of `col`: scores (q·k) and the
/// gradient of the weights (g·v).
template <int Keys, bool Pipelined, class S, class A>
__device__ void accumulate_products(A (&acc)[Tiling<Keys>::per_thread][Keys], A (*tile)[Keys][kPixels],
                                    const PixelAttentionShape& s, const Place<Keys>& place, const Source<S, A>& row,
                                    const Source<S, A>& col) {
    constexpr int stage = Tiling<Keys>::stage, rows = Tiling<Keys>::per_thread;
    const int dim = row.rows.dim;
    S next[rows][stage];
    A r[rows][stage];
    int next_j0 = 0, j0_of_r = 0;
    auto prefetch = [&](int j0) {
        next_j0 = j0;
#pragma unroll
        for (int k = 0; k < rows; ++k)
#pragma unroll
            for (int jj = 0; jj < stage; jj += 2) {
                next[k][jj] = next[k][jj + 1] = storage_zero<S>();
                if (place.active[k] && j0 + jj < dim)
                    row.load_pair(place.frame[k], j0 + jj, place.p, next[k][jj], next[k][jj + 1]);
            }
    };
    auto take = [&] {
        j0_of_r = next_j0;
#pragma unroll
        for (int k = 0; k < rows; ++k)
#pragma unroll
            for (int jj = 0; jj < stage; ++jj) r[k][jj] = widen(next[k][jj]);
    };
    for_each_step<Keys, Pipelined>(tile, s, place, col, prefetch, take, [&](int) {
#pragma unroll
        for (int k = 0; k < rows; ++k) {
            if (!place.active[k]) continue;
#pragma unroll
            for (int jj = 0; jj < stage; jj += 2)
                if (j0_of_r + jj < dim) row.turn(place.frame[k], j0_of_r + jj, r[k][jj], r[k][jj + 1]);
#pragma unroll
            for (int jj = 0; jj < stage; ++jj)
#pragma unroll
                for (int f = 0; f < Keys; ++f) acc[k][f] += r[k][jj] * tile[jj][f][threadIdx.x];
        }
    });
}

/// For each step of channels, values[jj] = Σ_f weight[k][f]·tile_f[j0 + jj]
/// with tile_f frame f of `col`, handed to sink(k, j0, values): the output
/// (weights · v) and the gradients dq, dk and dv.
template <int Keys, bool Pipelined, class S, class A, class Sink>
__device__ void weighted_sums(const A (&weight)[Tiling<Keys>::per_thread][Keys], A (*tile)[Keys][kPixels],
                              const PixelAttentionShape& s, const Place<Keys>& place, const Source<S, A>& col,
                              Sink&& sink) {
    constexpr int stage = Tiling<Keys>::stage;
    auto nothing = [](auto...) {};
    for_each_step<Keys, Pipelined>(tile, s, place, col, nothing, nothing, [&](int j0) {
#pragma unroll
        for (int k = 0; k < Tiling<Keys>::per_thread; ++k) {
            if (!place.active[k]) continue;
            A values[stage];
#pragma unroll
            for (int jj = 0; jj < stage; ++jj) {
                A v = 0;
#pragma unroll
                for (int f = 0; f < Keys; ++f) v += weight[k][f] * tile[jj][f][threadIdx.x];
                values[jj] = v;
            }
            sink(k, j0, values);
        }
    });
}

/// Writes channels [j0, j0 + stage) of frame t of a gradient, turned back by
/// the transposed rotation when tables are given.
template <int Keys, class S, class A>
__device__ void store_gradient_row(const A* values, const HeadRows<S*>& dst, const Rotary<A>& rotary, int which,
                                   int t, int j0, int p) {
    constexpr int stage = Tiling<Keys>::stage;
#pragma unroll
    for (int jj = 0; jj < stage; jj += 2) {
        const int j = j0 + jj;
        if (j >= dst.dim) break;
        A even = values[jj], odd = values[jj + 1];
        rotary.turn(which, t, j, even, odd, true);
        S* x = dst.at(t, j, p);
        store(x, even);
        if (j + 1 < dst.dim) store(x + dst.pixels, odd);
    }
}

/// The scaled, biased and masked scores of query t against every key
/// (−∞ where hidden before the softmax, and past T).
template <int Keys, class A>
__device__ void finish_scores(A (&score)[Keys], const PixelAttentionShape& s, const A* bias, std::int64_t h, int t) {
    const A scale = static_cast<A>(s.scale);
    const A neg_inf = -INFINITY;
#pragma unroll
    for (int key = 0; key < Keys; ++key) {
        A v = score[key] * scale;
        if (bias && key < s.frames) v += bias[(h * s.frames + t) * s.frames + key];
        const bool hidden = key >= s.frames || (s.causal && !s.post_softmax && key > t);
        score[key] = hidden ? neg_inf : v;
    }
}

/// What every kernel starts from: where its block works, the tables, and
/// the packed projection's parts as sources (q and k turned, v not).
template <int Keys, class S>
struct KernelFrame {
    using A = typename AccumulateOf<S>::type;
    Place<Keys> place;
    Rotary<A> rotary, none;
    Source<S, A> q, k, v;
    __device__ KernelFrame(const PixelAttentionShape& s, const S* qkv, const A* rotary_table)
        : place(s),
          rotary{rotary_table, static_cast<int>(s.frames), static_cast<int>(s.channels / s.heads / 2)},
          none{nullptr, 0, 0},
          q{packed_rows(s, qkv, place, 0), rotary, 0},
          k{packed_rows(s, qkv, place, 1), rotary, 1},
          v{packed_rows(s, qkv, place, 2), none, 0} {}
    /// The output's gradient, or any [B, T, C, P] tensor, as a plain source.
    __device__ Source<S, A> plain(const PixelAttentionShape& s, const S* data) const {
        return {output_rows(s, data, place), none, 0};
    }
};

/// blockIdx: x the pixel tile, y batch·heads + head, z the query tile.
template <int Keys, class S, bool Pipelined = kPipelined, int MinBlocks = kMinBlocks>
__global__ void __launch_bounds__(kThreads, MinBlocks)
    forward_kernel(PixelAttentionShape s, const S* qkv, const typename AccumulateOf<S>::type* bias,
                   const typename AccumulateOf<S>::type* rotary_table, S* out, typename AccumulateOf<S>::type* lse) {
    using A = typename AccumulateOf<S>::type;
    constexpr int rows = Tiling<Keys>::per_thread;
    __shared__ A tile[Tiling<Keys>::stage][Keys][kPixels];
    const KernelFrame<Keys, S> f(s, qkv, rotary_table);
    const Place<Keys>& place = f.place;

    A score[rows][Keys];
#pragma unroll
    for (int k = 0; k < rows; ++k)
#pragma unroll
        for (int key = 0; key < Keys; ++key) score[k][key] = 0;
    accumulate_products<Keys, Pipelined>(score, tile, s, place, f.q, f.k);

    // Softmax in place; the weights of a post-softmax mask are zeroed after it.
    const Planes planes{s.frames, s.pixels};
#pragma unroll
    for (int k = 0; k < rows; ++k) {
        if (!place.active[k]) continue;
        const int t = place.frame[k];
        finish_scores<Keys>(score[k], s, bias, place.h, t);
        A top = score[k][0];
#pragma unroll
        for (int key = 1; key < Keys; ++key) top = score[k][key] > top ? score[k][key] : top;
        A total = 0;
#pragma unroll
        for (int key = 0; key < Keys; ++key) {
            score[k][key] = exp_of(score[k][key] - top);
            total += score[k][key];
        }
        const A inverse = A(1) / total;
        lse[planes.row(place.bh, t, place.p)] = top + log_of(total);
#pragma unroll
        for (int key = 0; key < Keys; ++key)
            score[k][key] = s.causal && s.post_softmax && key > t ? A(0) : score[k][key] * inverse;
    }

    const HeadRows<S*> o = output_rows(s, out, place);
    weighted_sums<Keys, Pipelined>(score, tile, s, place, f.v, [&](int k, int j0, A* values) {
#pragma unroll
        for (int jj = 0; jj < Tiling<Keys>::stage; ++jj)
            if (j0 + jj < o.dim) store(o.at(place.frame[k], j0 + jj, place.p), values[jj]);
    });
}

/// The query side of the gradient: dq, and per (query, key, pixel) the
/// weights W (after a post-softmax mask) and the unscaled score gradients
/// dS into the workspace. Same grid as forward_kernel.
template <int Keys, class S, bool Pipelined = kPipelined, int MinBlocks = kMinBlocks>
__global__ void __launch_bounds__(kThreads, MinBlocks)
    query_gradient_kernel(PixelAttentionShape s, const S* qkv, const typename AccumulateOf<S>::type* bias,
                          const typename AccumulateOf<S>::type* rotary_table,
                          const typename AccumulateOf<S>::type* lse, const S* grad_out, S* dqkv,
                          typename AccumulateOf<S>::type* weights, typename AccumulateOf<S>::type* score_grad) {
    using A = typename AccumulateOf<S>::type;
    constexpr int rows = Tiling<Keys>::per_thread;
    __shared__ A tile[Tiling<Keys>::stage][Keys][kPixels];
    const KernelFrame<Keys, S> f(s, qkv, rotary_table);
    const Place<Keys>& place = f.place;

    A prob[rows][Keys], dp[rows][Keys];
#pragma unroll
    for (int k = 0; k < rows; ++k)
#pragma unroll
        for (int key = 0; key < Keys; ++key) prob[k][key] = dp[k][key] = 0;
    accumulate_products<Keys, Pipelined>(prob, tile, s, place, f.q, f.k);
    accumulate_products<Keys, Pipelined>(dp, tile, s, place, f.plain(s, grad_out), f.v);

    // Through the softmax: W = P (0 where hidden), dS = P ∘ (dP' − Σ P ∘ dP'), dP' = dP where visible.
    const Planes planes{s.frames, s.pixels};
#pragma unroll
    for (int k = 0; k < rows; ++k) {
        if (!place.active[k]) continue;
        const int t = place.frame[k];
        finish_scores<Keys>(prob[k], s, bias, place.h, t);
        const A row_lse = lse[planes.row(place.bh, t, place.p)];
        A dot = 0;
#pragma unroll
        for (int key = 0; key < Keys; ++key) {
            prob[k][key] = exp_of(prob[k][key] - row_lse);  // exactly 0 for −∞
            if (key >= s.frames || (s.causal && key > t)) dp[k][key] = 0;
            dot += prob[k][key] * dp[k][key];
        }
#pragma unroll
        for (int key = 0; key < Keys; ++key) {
            const A ds = prob[k][key] * (dp[k][key] - dot);
            if (key < s.frames) {
                weights[planes.pair(place.bh, t, key, place.p)] = s.causal && key > t ? A(0) : prob[k][key];
                score_grad[planes.pair(place.bh, t, key, place.p)] = ds;
            }
            dp[k][key] = ds * static_cast<A>(s.scale);  // the gradient of q·k from here on
        }
    }

    // dq = Σ_key dS·scale·k (turned keys), turned back.
    const HeadRows<S*> dq = packed_rows(s, dqkv, place, 0);
    weighted_sums<Keys, Pipelined>(dp, tile, s, place, f.k, [&](int k, int j0, A* values) {
        store_gradient_row<Keys>(values, dq, f.rotary, 0, place.frame[k], j0, place.p);
    });
}

/// The key side: dv[key] = Σ_t W[t, key]·g[t] and dk[key] = Σ_t dS[t, key]·scale·q[t]
/// (turned queries), turned back. blockIdx.z is the key tile.
template <int Keys, class S, bool Pipelined = kPipelined, int MinBlocks = kMinBlocks>
__global__ void __launch_bounds__(kThreads, MinBlocks)
    key_gradient_kernel(PixelAttentionShape s, const S* qkv, const typename AccumulateOf<S>::type* rotary_table,
                        const S* grad_out, const typename AccumulateOf<S>::type* weights,
                        const typename AccumulateOf<S>::type* score_grad, S* dqkv) {
    using A = typename AccumulateOf<S>::type;
    constexpr int rows = Tiling<Keys>::per_thread;
    __shared__ A tile[Tiling<Keys>::stage][Keys][kPixels];
    const KernelFrame<Keys, S> f(s, qkv, rotary_table);
    const Place<Keys>& place = f.place;
    const A scale = static_cast<A>(s.scale);
    const Planes planes{s.frames, s.pixels};

    A w[rows][Keys], ds[rows][Keys];  // indexed by query frame
#pragma unroll
    for (int k = 0; k < rows; ++k)
#pragma unroll
        for (int t = 0; t < Keys; ++t) {
            const bool present = place.active[k] && t < s.frames;
            const std::int64_t at = present ? planes.pair(place.bh, t, place.frame[k], place.p) : 0;
            w[k][t] = present ? weights[at] : A(0);
            ds[k][t] = present ? score_grad[at] * scale : A(0);
        }

    const HeadRows<S*> dk = packed_rows(s, dqkv, place, 1), dv = packed_rows(s, dqkv, place, 2);
    weighted_sums<Keys, Pipelined>(w, tile, s, place, f.plain(s, grad_out), [&](int k, int j0, A* values) {
        store_gradient_row<Keys>(values, dv, f.none, 0, place.frame[k], j0, place.p);
    });
    weighted_sums<Keys, Pipelined>(ds, tile, s, place, f.q, [&](int k, int j0, A* values) {
        store_gradient_row<Keys>(values, dk, f.rotary, 1, place.frame[k], j0, place.p);
    });
}

/// dbias[h, t, key] = Σ over batch and pixels of dS, one block per entry, in a fixed order.
template <class A>
__global__ void __launch_bounds__(kThreads)
    bias_gradient_kernel(PixelAttentionShape s, const A* score_grad, A* dbias) {
    const std::int64_t entry = blockIdx.x, frames2 = s.frames * s.frames;
    const std::int64_t h = entry / frames2, tk = entry % frames2;
    A sum = 0;
    for (std::int64_t b = 0; b < s.batch; ++b) {
        const A* plane = score_grad + ((b * s.heads + h) * frames2 + tk) * s.pixels;
        for (std::int64_t p = threadIdx.x; p < s.pixels; p += kThreads) sum += plane[p];
    }
    __shared__ A partial[kThreads];
    partial[threadIdx.x] = sum;
    __syncthreads();
    for (int half = kThreads / 2; half > 0; half /= 2) {
        if (static_cast<int>(threadIdx.x) < half) partial[threadIdx.x] += partial[threadIdx.x + half];
        __syncthreads();
    }
    if (threadIdx.x == 0) dbias[entry] = partial[0];
}

/// Calls f.template operator()<Keys>() with the smallest key bound ≥ frames.
template <class F>
Status with_keys(std::int64_t frames, F&& f) {
    if (frames <= 8) return f.template operator()<8>();
    if (frames <= 16) return f.template operator()<16>();
    if (frames <= 32) return f.template operator()<32>();
    if (frames <= 64) return f.template operator()<64>();
    return {"pixel_attention", "more than 64 frames"};
}

/// Calls f.template operator()<S>() for the storage type.
template <class F>
Status with_storage(AttentionStorage storage, F&& f) {
    switch (storage) {
        case AttentionStorage::Float32: return f.template operator()<float>();
        case AttentionStorage::Float64: return f.template operator()<double>();
        case AttentionStorage::BFloat16: return f.template operator()<__nv_bfloat16>();
    }
    return {"pixel_attention", "unknown storage type"};
}

template <int Keys>
dim3 grid_of(const PixelAttentionShape& s) {
    const auto rows = Tiling<Keys>::rows_per_block;
    return dim3(static_cast<unsigned>((s.pixels + kPixels - 1) / kPixels), static_cast<unsigned>(s.batch * s.heads),
                static_cast<unsigned>((s.frames + rows - 1) / rows));
}

}  // namespace vgt::cuda::attention
