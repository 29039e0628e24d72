#pragma once
// The forward pass of pixel attention for bfloat16 storage and T ≤ 16
// frames on tensor cores (sm_80 and later). Read by backend.cu only; the
// scalar kernels of pixel_attention.cuh serve every other case and the
// backward pass, which recomputes the weights from the log-sum-exp saved
// here.
//
// Why a second kernel. The scalar forward pass does T·T·d multiply-adds
// per pixel and head, each reading shared memory. In float32 that costs no
// more than moving the bytes, but bfloat16 moves half the bytes for the
// same arithmetic, so the scalar kernel is bound by its instructions there
// (0.35 ms against the 0.11 ms its bytes take at the copy's rate on an
// H100). Here one warp computes a pixel's whole 16×16 score matrix with
// mma.m16n8k16 (8 instructions for d = 64) and its output with another 8.
//
// Data flow. A block takes 32·Wide neighbouring pixels of one head; each
// global load is a warp's run of those pixels along one channel row (Wide
// 2 makes it 128 bytes when the pixel count is even, which the DRAM serves
// better than 64-byte pieces). The loads are packed in pairs into shared
// memory laid out per pixel, which is how the fragments want them:
//   q, k: [pixel][frame][channel pair] (16 channels a step),
//   v:    [pixel][channel][frame pair],
//   out:  [pixel][frame][channel pair], written back to the video layout.
// Scores accumulate in float32 over the steps of channels, the softmax runs
// in registers (a row's 16 keys lie in the 4 lanes of a quad), and the
// weights, rounded to bfloat16, are the A operand of the second product
// as they lie in the first one's accumulators.
//
// Rounding: products of bfloat16 values are exact and sums float32, as in
// the scalar kernel, except that the weights are rounded to bfloat16 before
// they multiply v, which stays within bfloat16's own error
// (tests/gpu/ops_test.cpp holds the result to 1e-2 of float64).
//
// Rotary tables are left to the scalar kernels: turned q and k would have
// to be rounded to bfloat16 before the product here, but are not where the
// backward pass recomputes the weights from the saved log-sum-exp, and the
// two disagreed by up to 6e-2 in the gradients.

#include <cstdint>

#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include "vgt/cuda/launchers.hpp"
#include "vgt/cuda/pixel_attention.cuh"

namespace vgt::cuda::attention::tensor_cores {

/// Rows of a tile: the frames of q, k and the output, or a step's channels of v.
constexpr int kFrames = 16;
/// Channels per step: one k-step of q·kᵀ, two n-tiles of weights·v.
constexpr int kStep = 16;
/// A tile row holds 8 words (pairs of bfloat16). A pixel's tile is 16 rows,
/// plus one word so that lanes storing one word each for consecutive
/// pixels spread over the banks.
constexpr int kRowWords = 8;
constexpr int kPixelWords = kFrames * kRowWords + 1;
/// Pixels whose scores one warp computes, one after another.
constexpr int kPixelsPerWarp = 4;

/// A block of `Wide` pixels per lane: 32·Wide pixels, 8·Wide warps. Each
/// warp stages one column of the tiles (a channel pair, or a frame pair of
/// v) over 16/Wide of their rows.
template <int Wide>
struct Geometry {
    static_assert(Wide == 1 || Wide == 2);
    static constexpr int pixels = 32 * Wide;
    static constexpr int warps = 8 * Wide;
    static constexpr int threads = 32 * warps;
    static constexpr int rows_per_warp = kFrames / Wide;
    static constexpr int tile_words = pixels * kPixelWords;
    /// Two tiles and the log-sum-exp of every row of every pixel.
    static constexpr int shared_bytes = (2 * tile_words + kFrames * (pixels + 1)) * 4;
    static_assert(warps * kPixelsPerWarp == pixels);
};

/// Word w of row `row` of pixel px's tile. Rows 4–7 and 12–15 swap their
/// halves, so that a fragment load (rows g, or g + 8, of 8 groups, words tig
/// or tig + 4 of 4 lanes) touches 32 different banks.
__device__ inline int tile_word(int px, int row, int w) { return px * kPixelWords + row * kRowWords + (w ^ (row & 4)); }

__device__ inline std::uint32_t pack(float low, float high) {
    return static_cast<std::uint32_t>(__bfloat16_as_ushort(__float2bfloat16_rn(low))) |
           (static_cast<std::uint32_t>(__bfloat16_as_ushort(__float2bfloat16_rn(high))) << 16);
}
/// The halves of two words that belong to pixel e (0 or 1) of a lane's
/// pair: e = 0 takes both low halves, e = 1 both high ones.
__device__ inline std::uint32_t halves_of(std::uint32_t a, std::uint32_t b, int e) {
    return __byte_perm(a, b, e == 0 ? 0x5410 : 0x7632);
}

/// The Wide pixels of a lane at x, as the low halves (Wide 1) or the whole
/// word (Wide 2); zero when absent.
template <int Wide>
__device__ inline std::uint32_t load_pixels(bool present, const __nv_bfloat16* x) {
    if (!present) return 0;
    if constexpr (Wide == 2) return *reinterpret_cast<const std::uint32_t*>(x);
    else return __bfloat16_as_ushort(*x);
}
template <int Wide>
__device__ inline void store_pixels(__nv_bfloat16* x, std::uint32_t w) {
    if constexpr (Wide == 2) *reinterpret_cast<std::uint32_t*>(x) = w;
    else *x = __ushort_as_bfloat16(static_cast<unsigned short>(w));
}

/// d += a·b for a 16×16 bfloat16 A (row-major), a 16×8 B (column-major) and
/// a 16×8 float32 accumulator, in the fragment layout of the PTX ISA.
__device__ inline void mma_16x8x16(float (&d)[4], const std::uint32_t (&a)[4], std::uint32_t b0, std::uint32_t b1) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
        "{%0, %1, %2, %3};\n"
        : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
#else
    __trap();  // the launcher never picks this kernel below sm_80
#endif
}

/// Lane roles in a fragment: group g (rows g and g + 8) and index tig in the group.
struct Lane {
    int g, tig;
    __device__ Lane() : g(static_cast<int>(threadIdx.x % 32) / 4), tig(static_cast<int>(threadIdx.x % 32) % 4) {}
};

/// The block's head of qkv and of the output, its tile of pixels, the sizes
/// it checks against, and this thread's part of the staging: its column of
/// the tiles, its first row, and its lane's first pixel.
template <int Wide>
struct Block {
    using G = Geometry<Wide>;
    std::int64_t bh, h;
    int p0, frames, dim, pixels;
    int column, row0, px0, p;
    HeadRows<const __nv_bfloat16*> q, k, v;
    HeadRows<__nv_bfloat16*> out;
    __device__ Block(const PixelAttentionShape& s, const __nv_bfloat16* qkv, __nv_bfloat16* o) {
        bh = blockIdx.y;
        const std::int64_t b = bh / s.heads;
        h = bh % s.heads;
        p0 = static_cast<int>(blockIdx.x) * G::pixels;
        frames = static_cast<int>(s.frames);
        dim = static_cast<int>(s.channels / s.heads);
        pixels = static_cast<int>(s.pixels);
        const int warp = static_cast<int>(threadIdx.x / 32);
        column = warp % kRowWords;
        row0 = (warp / kRowWords) * G::rows_per_warp;
        px0 = Wide * static_cast<int>(threadIdx.x % 32);
        p = p0 + px0;
        const int frame_stride = static_cast<int>(3 * s.channels * s.pixels);
        const __nv_bfloat16* head = qkv + ((b * s.frames) * 3 * s.channels + h * dim) * s.pixels;
        q = {head, frame_stride, pixels, dim};
        k = {head + s.channels * s.pixels, frame_stride, pixels, dim};
        v = {head + 2 * s.channels * s.pixels, frame_stride, pixels, dim};
        out = {o + ((b * s.frames) * s.channels + h * dim) * s.pixels, static_cast<int>(s.channels * s.pixels), pixels,
               dim};
    }
};

// Each thread stages one column of the tiles at its lane's pixels and walks
// its rows with one pointer, so that many loads are in flight per thread
// without an address held for each.

/// Stages channels [j0, j0 + 16) of every frame of q or k into `tile` as
/// [pixel][frame][channel pair].
template <int Wide>
__device__ void stage_scores_operand(std::uint32_t* tile, const Block<Wide>& blk,
                                     const HeadRows<const __nv_bfloat16*>& rows, int j0) {
    constexpr int R = Geometry<Wide>::rows_per_warp;
    const int j = j0 + 2 * blk.column;
    const bool even_present = blk.p < blk.pixels && j < blk.dim, odd_present = blk.p < blk.pixels && j + 1 < blk.dim;
    const __nv_bfloat16* x = rows.data + j * rows.pixels + blk.p;
    std::uint32_t even[R], odd[R];
#pragma unroll
    for (int r = 0; r < R; ++r) {
        const int t = blk.row0 + r;
        even[r] = load_pixels<Wide>(even_present && t < blk.frames, x + t * rows.frame_stride);
        odd[r] = load_pixels<Wide>(odd_present && t < blk.frames, x + t * rows.frame_stride + rows.pixels);
    }
#pragma unroll
    for (int r = 0; r < R; ++r) {
        const int t = blk.row0 + r;
#pragma unroll
        for (int e = 0; e < Wide; ++e) tile[tile_word(blk.px0 + e, t, blk.column)] = halves_of(even[r], odd[r], e);
    }
}

/// Stages channels [j0, j0 + 16) of v into `tile` as [pixel][channel][frame pair].
template <int Wide>
__device__ void stage_values(std::uint32_t* tile, const Block<Wide>& blk, int j0) {
    constexpr int R = Geometry<Wide>::rows_per_warp;
    const int t = 2 * blk.column;
    const bool first_present = blk.p < blk.pixels && t < blk.frames;
    const bool second_present = blk.p < blk.pixels && t + 1 < blk.frames;
    const __nv_bfloat16* x = blk.v.data + t * blk.v.frame_stride + j0 * blk.v.pixels + blk.p;
    std::uint32_t first[R], second[R];
#pragma unroll
    for (int r = 0; r < R; ++r) {
        const int c = blk.row0 + r;
        const bool channel = j0 + c < blk.dim;
        first[r] = load_pixels<Wide>(first_present && channel, x + c * blk.v.pixels);
        second[r] = load_pixels<Wide>(second_present && channel, x + c * blk.v.pixels + blk.v.frame_stride);
    }
#pragma unroll
    for (int r = 0; r < R; ++r)
#pragma unroll
        for (int e = 0; e < Wide; ++e)
            tile[tile_word(blk.px0 + e, blk.row0 + r, blk.column)] = halves_of(first[r], second[r], e);
}

/// Writes channels [j0, j0 + 16) of the output from `tile` ([pixel][frame][channel pair]).
template <int Wide>
__device__ void write_output(const std::uint32_t* tile, const Block<Wide>& blk, int j0) {
    constexpr int R = Geometry<Wide>::rows_per_warp;
    const int j = j0 + 2 * blk.column;
    if (blk.p >= blk.pixels || j >= blk.dim) return;
    __nv_bfloat16* x = blk.out.data + j * blk.out.pixels + blk.p;
    const bool odd_present = j + 1 < blk.dim;
#pragma unroll
    for (int r = 0; r < R; ++r) {
        const int t = blk.row0 + r;
        if (t >= blk.frames) break;
        // Word e holds channels (j, j + 1) of pixel px0 + e; the stores want
        // each channel's pixels together.
        const std::uint32_t w0 = tile[tile_word(blk.px0, t, blk.column)];
        const std::uint32_t w1 = Wide == 2 ? tile[tile_word(blk.px0 + 1, t, blk.column)] : 0;
        store_pixels<Wide>(x + t * blk.out.frame_stride, halves_of(w0, w1, 0));
        if (odd_present) store_pixels<Wide>(x + t * blk.out.frame_stride + blk.out.pixels, halves_of(w0, w1, 1));
    }
}

/// How many pixels a lane loads at once (2 needs an even pixel count and
/// word-aligned tensors) and how many blocks per multiprocessor the
/// compiler must leave registers for. One pixel a lane with 3 blocks was
/// the fastest of 1–3 blocks on an H100 (benchmarks/attention_variants.cu);
/// two pixels a lane are to be timed the same way.
constexpr int kWide = 2;
template <int Wide>
constexpr int kMinBlocks = Wide == 2 ? 2 : 3;

/// blockIdx: x the tile of 32·Wide pixels, y batch·heads + head. Same
/// arguments and results as forward_kernel<16, __nv_bfloat16> without
/// rotary tables.
template <int Wide, int MinBlocks = kMinBlocks<Wide>>
__global__ void __launch_bounds__(Geometry<Wide>::threads, MinBlocks)
    forward_kernel(PixelAttentionShape s, const __nv_bfloat16* qkv, const float* bias, __nv_bfloat16* out,
                   float* lse) {
    using G = Geometry<Wide>;
    extern __shared__ std::uint32_t shared[];
    std::uint32_t* tiles[2] = {shared, shared + G::tile_words};
    float* row_lse = reinterpret_cast<float*>(shared + 2 * G::tile_words);  // [kFrames][pixels + 1]
    const Block<Wide> blk(s, qkv, out);
    const Lane lane;
    const int warp = static_cast<int>(threadIdx.x / 32);

    // Scores: acc[i][n] is the 16×8 accumulator of keys 8n–8n+7 for the warp's i-th pixel.
    float acc[kPixelsPerWarp][2][4];
#pragma unroll
    for (int i = 0; i < kPixelsPerWarp; ++i)
#pragma unroll
        for (int n = 0; n < 2; ++n)
#pragma unroll
            for (int r = 0; r < 4; ++r) acc[i][n][r] = 0;
    for (int j0 = 0; j0 < blk.dim; j0 += kStep) {
        __syncthreads();  // the previous step's fragments are read
        stage_scores_operand(tiles[0], blk, blk.q, j0);
        stage_scores_operand(tiles[1], blk, blk.k, j0);
        __syncthreads();
#pragma unroll
        for (int i = 0; i < kPixelsPerWarp; ++i) {
            const int px = warp * kPixelsPerWarp + i;
            const std::uint32_t a[4] = {tiles[0][tile_word(px, lane.g, lane.tig)],
                                        tiles[0][tile_word(px, lane.g + 8, lane.tig)],
                                        tiles[0][tile_word(px, lane.g, lane.tig + 4)],
                                        tiles[0][tile_word(px, lane.g + 8, lane.tig + 4)]};
#pragma unroll
            for (int n = 0; n < 2; ++n)
                mma_16x8x16(acc[i][n], a, tiles[1][tile_word(px, 8 * n + lane.g, lane.tig)],
                            tiles[1][tile_word(px, 8 * n + lane.g, lane.tig + 4)]);
        }
    }

    // Softmax of each row (this lane holds keys 8n + 2·tig + {0, 1} of rows g
    // and g + 8), as forward_kernel computes it; the weights become the A
    // fragments of weights·v: word r of a pixel is accumulator pair r.
    const float scale = static_cast<float>(s.scale);
    std::uint32_t weights[kPixelsPerWarp][4];
#pragma unroll
    for (int i = 0; i < kPixelsPerWarp; ++i) {
#pragma unroll
        for (int half = 0; half < 2; ++half) {
            const int t = lane.g + 8 * half;
            float x[4];  // keys 2·tig, 2·tig + 1, 8 + 2·tig, 9 + 2·tig
#pragma unroll
            for (int e = 0; e < 4; ++e) {
                const int key = 8 * (e / 2) + 2 * lane.tig + e % 2;
                float v = acc[i][e / 2][2 * half + e % 2] * scale;
                if (bias && key < blk.frames && t < blk.frames) v += bias[(blk.h * blk.frames + t) * blk.frames + key];
                const bool hidden = key >= blk.frames || (s.causal && !s.post_softmax && key > t);
                x[e] = hidden ? -INFINITY : v;
            }
            float top = fmaxf(fmaxf(x[0], x[1]), fmaxf(x[2], x[3]));
            top = fmaxf(top, __shfl_xor_sync(0xffffffffu, top, 1));
            top = fmaxf(top, __shfl_xor_sync(0xffffffffu, top, 2));
            float total = 0;
#pragma unroll
            for (int e = 0; e < 4; ++e) {
                x[e] = expf(x[e] - top);
                total += x[e];
            }
            total += __shfl_xor_sync(0xffffffffu, total, 1);
            total += __shfl_xor_sync(0xffffffffu, total, 2);
            const float inverse = 1.0f / total;
            if (lane.tig == 0) row_lse[t * (G::pixels + 1) + warp * kPixelsPerWarp + i] = top + logf(total);
#pragma unroll
            for (int e = 0; e < 4; ++e) {
                const int key = 8 * (e / 2) + 2 * lane.tig + e % 2;
                x[e] = s.causal && s.post_softmax && key > t ? 0.0f : x[e] * inverse;
            }
            weights[i][half] = pack(x[0], x[1]);
            weights[i][2 + half] = pack(x[2], x[3]);
        }
    }
    __syncthreads();
    {
        const Planes planes{s.frames, s.pixels};
        for (int t = warp; t < blk.frames; t += G::warps)
            for (int px = static_cast<int>(threadIdx.x % 32); px < G::pixels; px += 32)
                if (blk.p0 + px < blk.pixels)
                    lse[planes.row(blk.bh, t, blk.p0 + px)] = row_lse[t * (G::pixels + 1) + px];
    }

    // Output = weights·v, a step of 16 channels (two 16×8 n-tiles) at a time.
    std::uint32_t* values = tiles[0];
    std::uint32_t* result = tiles[1];
    for (int j0 = 0; j0 < blk.dim; j0 += kStep) {
        __syncthreads();  // the previous step's output is written out
        stage_values(values, blk, j0);
        __syncthreads();
#pragma unroll
        for (int i = 0; i < kPixelsPerWarp; ++i) {
            const int px = warp * kPixelsPerWarp + i;
#pragma unroll
            for (int n = 0; n < 2; ++n) {
                float o[4] = {0, 0, 0, 0};
                mma_16x8x16(o, weights[i], values[tile_word(px, 8 * n + lane.g, lane.tig)],
                            values[tile_word(px, 8 * n + lane.g, lane.tig + 4)]);
                result[tile_word(px, lane.g, 4 * n + lane.tig)] = pack(o[0], o[1]);
                result[tile_word(px, lane.g + 8, 4 * n + lane.tig)] = pack(o[2], o[3]);
            }
        }
        __syncthreads();
        write_output(result, blk, j0);
    }
}

/// Readies forward_kernel<Wide, MinBlocks> for launches: allows its shared
/// memory past the default 48 KB. False when it cannot run its tensor-core
/// code on the current device (compiled from PTX older than 8.0, whose
/// code only traps).
template <int Wide, int MinBlocks = kMinBlocks<Wide>>
bool prepare() {
    static const bool ready = [] {
        const auto kernel = forward_kernel<Wide, MinBlocks>;
        cudaFuncAttributes attributes{};
        if (cudaFuncGetAttributes(&attributes, kernel) != cudaSuccess || attributes.ptxVersion < 80 ||
            cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, Geometry<Wide>::shared_bytes) !=
                cudaSuccess) {
            (void)cudaGetLastError();
            return false;
        }
        return true;
    }();
    return ready;
}

/// Launches forward_kernel<Wide, MinBlocks> (after prepare()).
template <int Wide, int MinBlocks = kMinBlocks<Wide>>
void launch(const PixelAttentionShape& s, const __nv_bfloat16* qkv, const float* bias, __nv_bfloat16* out,
            float* lse) {
    using G = Geometry<Wide>;
    const dim3 grid(static_cast<unsigned>((s.pixels + G::pixels - 1) / G::pixels),
                    static_cast<unsigned>(s.batch * s.heads));
    forward_kernel<Wide, MinBlocks><<<grid, G::threads, G::shared_bytes>>>(s, qkv, bias, out, lse);
}

}  // namespace vgt::cuda::attention::tensor_cores
