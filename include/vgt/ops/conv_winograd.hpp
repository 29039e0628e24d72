#pragma once
// Winograd convolution for the 3×3 spatial kernels that make up most of a
// video UNet's work: F(m×m, 3×3) computes an m×m tile of output from an
// α×α tile of input (α = m + 2) with α² products per channel pair instead
// of 9·m², through
//
//   y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
//
// (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2016).
// Summed over input channels, the ⊙ becomes α² independent matrix products
// [out × in] · [in × tiles], which go through detail::gemm as every other
// product does. F(4×4, 3×3) does 4× fewer multiplications than im2col + GEMM
// for the price of the transforms (a few additions per element) and of
// rounding: its transforms have entries up to 8 in magnitude, so a float32
// result carries a few times the error of a direct sum (of the points tried,
// 0, −1, 1, 1/2, −2 gave the smallest: about 1.4e-6 of the output's
// largest value at 64 channels, against 2e-7 for a direct float32 sum).
// Double precision keeps im2col.
//
// The same transforms serve a 3-d convolution [kt, 3, 3] with stride 1: its
// output frame t sums kt two-dimensional convolutions of input frames
// t + dt − padding, so the kt frames act as kt× the input channels. The
// input gradient of a stride-1 convolution is itself one (the output
// gradient convolved with the kernel flipped in every dimension and its
// channel axes swapped, with padding k − 1 − p), and the weight gradient is
// the adjoint: Gᵀ [ Σ over tiles (A ∂y Aᵀ) ⊙ (Bᵀ d B) ] G.
//
// Work is split into blocks of tiles (from any frames); each thread keeps
// the transformed inputs of one block in cache while the α² products run.
// With too few tiles for that (a batch of two 32×32 frames), the threads
// share one block of all tiles and split each step instead.

#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>
#include <vector>

#include "vgt/core/parallel.hpp"
#include "vgt/ops/gemm.hpp"

namespace vgt::detail {

/// The matrices of F(m×m, 3×3): input transform Bᵀ [α, α], output transform
/// Aᵀ [m, α] and kernel transform G [α, 3]. For m = 4 they come from the
/// interpolation points 0, −1, 1, 1/2, −2 and ∞.
template <int M>
struct WinogradTransforms;

template <>
struct WinogradTransforms<4> {
    static constexpr int m = 4, alpha = 6;
    static constexpr float input[6][6] = {
        {1, -1.5f, -2, 1.5f, 1, 0}, {0, 1, -2.5f, 0.5f, 1, 0},  {0, -1, 0.5f, 2.5f, 1, 0},
        {0, -2, -1, 2, 1, 0},       {0, 0.5f, -1, -0.5f, 1, 0}, {0, 1, -1.5f, -2, 1.5f, 1}};
    static constexpr float output[4][6] = {
        {1, 1, 1, 1, 1, 0}, {0, -1, 1, 0.5f, -2, 0}, {0, 1, 1, 0.25f, 4, 0}, {0, -1, 1, 0.125f, -8, 1}};
    static constexpr double kernel[6][3] = {{1, 0, 0},
                                            {-1.0 / 3, 1.0 / 3, -1.0 / 3},
                                            {1.0 / 3, 1.0 / 3, 1.0 / 3},
                                            {-16.0 / 15, -8.0 / 15, -4.0 / 15},
                                            {1.0 / 15, -2.0 / 15, 4.0 / 15},
                                            {0, 0, 1}};
};

/// The output tile side that vgt uses.
inline constexpr int kWinogradTile = 4;
/// Fewest input channels × temporal taps for which conv2d and conv3d choose
/// the transforms over im2col. With fewer, transforming the input costs more
/// than the products save (3 → 16 channels on 32×32 frames took twice as
/// long, 16 → 16 as long as im2col); a thin output is no obstacle (64 → 2
/// and 16 → 3 were faster, forward and backward).
inline constexpr std::int64_t kWinogradMinChannels = 16;

/// A stride-1 convolution with a [taps, 3, 3] kernel over frames of
/// [H, W] planes: input [N, C_in, T_in, H, W], output [N, C_out, T_out,
/// H_out, W_out] (T = 1 and taps = 1 for a 2-d convolution), weight
/// [C_out, C_in, taps, 3, 3].
struct WinogradShape {
    std::int64_t batch = 0, in_channels = 0, out_channels = 0;
    std::int64_t in_frames = 1, out_frames = 1, taps = 1, frame_padding = 0;
    std::int64_t in_height = 0, in_width = 0, out_height = 0, out_width = 0, pad_height = 0, pad_width = 0;

    /// Input channels × temporal taps: the inner dimension of the products.
    std::int64_t depth() const { return in_channels * taps; }
    std::int64_t in_plane() const { return in_height * in_width; }
    std::int64_t out_plane() const { return out_height * out_width; }

    /// The convolution whose output is this one's input gradient: kernel
    /// flipped, channels swapped, padding k − 1 − p.
    WinogradShape input_gradient() const {
        WinogradShape g = *this;
        g.in_channels = out_channels;
        g.out_channels = in_channels;
        g.in_frames = out_frames;
        g.out_frames = in_frames;
        g.frame_padding = taps - 1 - frame_padding;
        g.in_height = out_height;
        g.in_width = out_width;
        g.out_height = in_height;
        g.out_width = in_width;
        g.pad_height = 2 - pad_height;
        g.pad_width = 2 - pad_width;
        return g;
    }
};

/// Tiles are transformed this many at a time, one per SIMD lane.
inline constexpr std::int64_t kWinogradLanes = 16;

/// Tiles rounded up to whole SIMD lanes.
inline std::int64_t winograd_lanes(std::int64_t count) {
    return (count + kWinogradLanes - 1) / kWinogradLanes * kWinogradLanes;
}

/// The output tiles of a convolution, numbered over (batch item, output
/// frame, tile row, tile column).
template <int M>
struct WinogradTiling {
    std::int64_t rows = 0, cols = 0, per_frame = 0, total = 0;

    explicit WinogradTiling(const WinogradShape& s)
        : rows((s.out_height + M - 1) / M), cols((s.out_width + M - 1) / M), per_frame(rows * cols),
          total(s.batch * s.out_frames * per_frame) {}

    /// Tiles per block when each thread walks blocks of its own: the block's
    /// transformed input and products, α² × (depth + C_out) floats per tile,
    /// should stay in a core's L2 cache (about 1 MiB of it).
    std::int64_t block(const WinogradShape& s) const {
        constexpr int alpha = M + 2;
        std::int64_t b = std::clamp<std::int64_t>(
            (std::int64_t{1} << 18) / (alpha * alpha * (s.depth() + s.out_channels)), 16, 256) / 16 * 16;
        const std::int64_t wanted = 4 * static_cast<std::int64_t>(num_threads());
        while (b > 16 && (total + b - 1) / b < wanted) b -= 16;
        return b;
    }
    /// Whether the threads should rather share one block of all tiles,
    /// splitting each step by channels and transform points: when there are
    /// too few tiles for blocks wide enough that repacking the transformed
    /// kernel for every block is cheap, and that block's buffers stay within
    /// 64 MiB (they are kept for the next call).
    bool shared(const WinogradShape& s) const {
        constexpr std::int64_t points = (M + 2) * (M + 2);
        const std::int64_t floats = points * (s.depth() + s.out_channels) * winograd_lanes(total);
        return total < 64 * 4 * static_cast<std::int64_t>(num_threads()) && floats <= (std::int64_t{1} << 24);
    }
};

/// One tile: its frame, the top-left corner of its output, and whether its
/// output and its input window lie inside the frame.
struct WinogradTile {
    std::int64_t n, frame, y0, x0;
    bool input_inside, output_inside;
};

/// A run of consecutive tiles and the buffers of their transforms, one row
/// of `stride` ≥ lanes values per (point ξ, channel).
struct WinogradBlock {
    std::vector<WinogradTile> tiles;
    std::int64_t count = 0, lanes = 0, stride = 0;
    float* transformed = nullptr;  // [α²][depth][stride]: Bᵀ d B of the input tiles
    float* products = nullptr;     // [α²][C_out][stride]: U · transformed, or A ∂y Aᵀ

    template <int M>
    void plan(const WinogradShape& s, const WinogradTiling<M>& tiling, std::int64_t first, std::int64_t n) {
        count = n;
        lanes = winograd_lanes(n);
        tiles.resize(static_cast<std::size_t>(n));
        for (std::int64_t q = 0; q < n; ++q) {
            const std::int64_t index = first + q;
            const std::int64_t frame_index = index / tiling.per_frame, within = index % tiling.per_frame;
            WinogradTile& t = tiles[static_cast<std::size_t>(q)];
            t.n = frame_index / s.out_frames;
            t.frame = frame_index % s.out_frames;
            t.y0 = (within / tiling.cols) * M;
            t.x0 = (within % tiling.cols) * M;
            const std::int64_t iy = t.y0 - s.pad_height, ix = t.x0 - s.pad_width;
            t.input_inside = iy >= 0 && ix >= 0 && iy + M + 2 <= s.in_height && ix + M + 2 <= s.in_width;
            t.output_inside = t.y0 + M <= s.out_height && t.x0 + M <= s.out_width;
        }
    }
};

/// A thread's buffers, kept between calls (grown, never shrunk): `patches`
/// for the tiles of one channel, `transformed` and `products` for a block.
struct WinogradScratch {
    std::vector<float> patches, transformed, products;
    WinogradBlock block;

    static WinogradScratch& of_this_thread() {
        thread_local WinogradScratch scratch;
        return scratch;
    }
    float* patch_buffer(std::int64_t n) { return grown(patches, n); }
    /// Points the block's buffers at this thread's storage.
    void hold(WinogradBlock& b, std::int64_t points, std::int64_t depth, std::int64_t out_channels) {
        b.transformed = grown(transformed, points * depth * b.stride);
        b.products = grown(products, points * out_channels * b.stride);
    }

private:
    static float* grown(std::vector<float>& v, std::int64_t n) {
        if (v.size() < static_cast<std::size_t>(n)) v.resize(static_cast<std::size_t>(n));
        return v.data();
    }
};

/// out = mat · in · matᵀ for kWinogradLanes tiles at once: in [C, C] and out
/// [R, R] are planes of lanes, element (r, s) at in + (r·C + s)·in_stride and
/// out + (r·R + s)·out_stride. The loops unroll over the constant matrix, so
/// its zeros and ones cost nothing. (The two passes are written out: a shared
/// helper taking the source as a callable measured slower.)
template <int R, int C>
inline void transform_lanes(const float (&mat)[R][C], const float* in, std::int64_t in_stride, float* out,
                            std::int64_t out_stride) {
    constexpr std::int64_t L = kWinogradLanes;
    float half[R][C][L];
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i)
#pragma GCC unroll 8
        for (int j = 0; j < C; ++j) {
            float acc[L] = {};
#pragma GCC unroll 8
            for (int k = 0; k < C; ++k) {
                if (mat[i][k] == 0.0f) continue;
                const float c = mat[i][k];
                const float* src = in + (k * C + j) * in_stride;
                for (std::int64_t q = 0; q < L; ++q) acc[q] += c * src[q];
            }
            for (std::int64_t q = 0; q < L; ++q) half[i][j][q] = acc[q];
        }
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i)
#pragma GCC unroll 8
        for (int j = 0; j < R; ++j) {
            float acc[L] = {};
#pragma GCC unroll 8
            for (int l = 0; l < C; ++l) {
                if (mat[j][l] == 0.0f) continue;
                const float c = mat[j][l];
                for (std::int64_t q = 0; q < L; ++q) acc[q] += c * half[i][l][q];
            }
            float* dst = out + (i * R + j) * out_stride;
            for (std::int64_t q = 0; q < L; ++q) dst[q] = acc[q];
        }
}

/// block.transformed[ξ][k] = Bᵀ d B over the block's input tiles, for the
/// virtual input channels k = c·taps + dt in [k0, k1). The tiles go through
/// a buffer of one SIMD group (kWinogradLanes tiles, 2.3 KB) that stays in
/// the L1 cache between its gather and its transform.
template <int M>
void winograd_input_tiles(const WinogradShape& s, const float* x, WinogradBlock& block, std::int64_t k0,
                          std::int64_t k1) {
    constexpr int alpha = M + 2;
    constexpr std::int64_t L = kWinogradLanes;
    const std::int64_t lanes = block.lanes, count = block.count;
    float* d = WinogradScratch::of_this_thread().patch_buffer(alpha * alpha * L);  // [α][α][L]
    for (std::int64_t k = k0; k < k1; ++k) {
        const std::int64_t c = k / s.taps, dt = k % s.taps;
        for (std::int64_t q0 = 0; q0 < lanes; q0 += L) {
            for (std::int64_t lane = 0; lane < L; ++lane) {
                const std::int64_t q = q0 + lane;
                const WinogradTile* tile = q < count ? &block.tiles[static_cast<std::size_t>(q)] : nullptr;
                const std::int64_t frame = tile ? tile->frame + dt - s.frame_padding : -1;
                if (frame < 0 || frame >= s.in_frames) {
                    for (int e = 0; e < alpha * alpha; ++e) d[e * L + lane] = 0.0f;
                    continue;
                }
                const float* plane = x + ((tile->n * s.in_channels + c) * s.in_frames + frame) * s.in_plane();
                const std::int64_t y0 = tile->y0 - s.pad_height, x0 = tile->x0 - s.pad_width;
                if (tile->input_inside) {
                    const float* src = plane + y0 * s.in_width + x0;
                    for (int r = 0; r < alpha; ++r)
                        for (int e = 0; e < alpha; ++e) d[(r * alpha + e) * L + lane] = src[r * s.in_width + e];
                    continue;
                }
                for (int r = 0; r < alpha; ++r) {
                    const std::int64_t y = y0 + r;
                    const bool row_inside = y >= 0 && y < s.in_height;
                    for (int e = 0; e < alpha; ++e) {
                        const std::int64_t xx = x0 + e;
                        d[(r * alpha + e) * L + lane] =
                            row_inside && xx >= 0 && xx < s.in_width ? plane[y * s.in_width + xx] : 0.0f;
                    }
                }
            }
            transform_lanes(WinogradTransforms<M>::input, d, L, block.transformed + k * block.stride + q0,
                            s.depth() * block.stride);
        }
    }
}

/// block.products[ξ] = U[ξ] · block.transformed[ξ] for the points [xi0, xi1).
inline void winograd_multiply(const WinogradShape& s, const std::vector<float>& u, const WinogradBlock& block,
                              std::int64_t xi0, std::int64_t xi1) {
    const std::int64_t depth = s.depth(), cout = s.out_channels, stride = block.stride;
    for (std::int64_t xi = xi0; xi < xi1; ++xi)
        gemm(MatrixOperand<float>::rows_of(u.data() + xi * cout * depth, cout, depth),
             MatrixOperand<float>::rows_of(block.transformed + xi * depth * stride, depth, block.lanes, stride),
             block.products + xi * cout * stride, stride);
}

/// y = Aᵀ products A (+ bias) over the block's tiles, output channels [o0, o1).
template <int M>
void winograd_output_tiles(const WinogradShape& s, const WinogradBlock& block, const float* bias, float* y,
                           std::int64_t o0, std::int64_t o1) {
    constexpr std::int64_t L = kWinogradLanes;
    const std::int64_t cout = s.out_channels;
    float* tile_out = WinogradScratch::of_this_thread().patch_buffer(M * M * L);  // [M][M][L], one SIMD group
    for (std::int64_t o = o0; o < o1; ++o) {
        const float offset = bias ? bias[o] : 0.0f;
        for (std::int64_t q0 = 0; q0 < block.count; q0 += L) {
            transform_lanes(WinogradTransforms<M>::output, block.products + o * block.stride + q0, cout * block.stride,
                            tile_out, L);
            for (std::int64_t q = q0; q < std::min(block.count, q0 + L); ++q) {
                const WinogradTile& tile = block.tiles[static_cast<std::size_t>(q)];
                float* plane = y + ((tile.n * cout + o) * s.out_frames + tile.frame) * s.out_plane();
                const std::int64_t rows = tile.output_inside ? M : std::min<std::int64_t>(M, s.out_height - tile.y0);
                const std::int64_t cols = tile.output_inside ? M : std::min<std::int64_t>(M, s.out_width - tile.x0);
                for (std::int64_t r = 0; r < rows; ++r) {
                    float* dst = plane + (tile.y0 + r) * s.out_width + tile.x0;
                    for (std::int64_t e = 0; e < cols; ++e) dst[e] = tile_out[(r * M + e) * L + (q - q0)] + offset;
                }
            }
        }
    }
}

/// block.products[ξ][o] = A ∂y Aᵀ over the block's output-gradient tiles
/// (zero outside the output), for output channels [o0, o1).
template <int M>
void winograd_gradient_tiles(const WinogradShape& s, const float* gy, WinogradBlock& block, std::int64_t o0,
                             std::int64_t o1) {
    constexpr int alpha = M + 2;
    static constexpr auto spread = [] {  // A = (Aᵀ)ᵀ, [α][M]
        std::array<std::array<float, M>, alpha> a{};
        for (int i = 0; i < alpha; ++i)
            for (int j = 0; j < M; ++j) a[i][j] = WinogradTransforms<M>::output[j][i];
        return a;
    }();
    float spread_matrix[alpha][M];
    for (int i = 0; i < alpha; ++i)
        for (int j = 0; j < M; ++j) spread_matrix[i][j] = spread[i][j];
    constexpr std::int64_t L = kWinogradLanes;
    const std::int64_t lanes = block.lanes, cout = s.out_channels;
    float* tile_grad = WinogradScratch::of_this_thread().patch_buffer(M * M * L);  // [M][M][L], one SIMD group
    for (std::int64_t o = o0; o < o1; ++o) {
        for (std::int64_t q0 = 0; q0 < lanes; q0 += L) {
            for (std::int64_t lane = 0; lane < L; ++lane) {
                const std::int64_t q = q0 + lane;
                const WinogradTile* tile = q < block.count ? &block.tiles[static_cast<std::size_t>(q)] : nullptr;
                if (!tile) {
                    for (int e = 0; e < M * M; ++e) tile_grad[e * L + lane] = 0.0f;
                    continue;
                }
                const float* plane = gy + ((tile->n * cout + o) * s.out_frames + tile->frame) * s.out_plane();
                for (int r = 0; r < M; ++r)
                    for (int e = 0; e < M; ++e) {
                        const std::int64_t yy = tile->y0 + r, xx = tile->x0 + e;
                        tile_grad[(r * M + e) * L + lane] = tile->output_inside ||
                                                                    (yy < s.out_height && xx < s.out_width)
                                                                ? plane[yy * s.out_width + xx]
                                                                : 0.0f;
                    }
            }
            transform_lanes(spread_matrix, tile_grad, L, block.products + o * block.stride + q0, cout * block.stride);
        }
    }
}

/// sum[ξ] (+)= block.products[ξ] · block.transformed[ξ]ᵀ, [C_out, depth], for points [xi0, xi1).
inline void winograd_weight_products(const WinogradShape& s, const WinogradBlock& block, float* sum,
                                     std::int64_t xi0, std::int64_t xi1, bool accumulate) {
    const std::int64_t depth = s.depth(), cout = s.out_channels, stride = block.stride;
    for (std::int64_t xi = xi0; xi < xi1; ++xi)
        gemm(MatrixOperand<float>::rows_of(block.products + xi * cout * stride, cout, block.lanes, stride),
             MatrixOperand<float>::rows_of(block.transformed + xi * depth * stride, depth, block.lanes, stride)
                 .transposed(),
             sum + xi * cout * depth, depth, accumulate);
}

/// U[ξ][o][k] = (G w[o, k] Gᵀ)[ξ] for every (output channel, virtual input
/// channel) pair, in double then rounded.
template <int M>
std::vector<float> winograd_kernels(const WinogradShape& s, const float* w) {
    constexpr int alpha = M + 2;
    constexpr std::int64_t L = 8;
    const std::int64_t pairs = s.out_channels * s.depth();
    std::vector<float> u(static_cast<std::size_t>(alpha * alpha * pairs));
    const auto& g = WinogradTransforms<M>::kernel;
    parallel_for_chunks(0, (pairs + L - 1) / L, 16, [&](std::int64_t lo, std::int64_t hi) {
        for (std::int64_t chunk = lo; chunk < hi; ++chunk) {
            const std::int64_t p0 = chunk * L, n = std::min(L, pairs - p0);
            double k[9][L] = {}, half[alpha][3][L];
            for (std::int64_t q = 0; q < n; ++q)
                for (int e = 0; e < 9; ++e) k[e][q] = w[(p0 + q) * 9 + e];
            for (int i = 0; i < alpha; ++i)
                for (int b = 0; b < 3; ++b)
                    for (std::int64_t q = 0; q < L; ++q)
                        half[i][b][q] = g[i][0] * k[b][q] + g[i][1] * k[3 + b][q] + g[i][2] * k[6 + b][q];
            for (int i = 0; i < alpha; ++i)
                for (int j = 0; j < alpha; ++j) {
                    float* dst = u.data() + (i * alpha + j) * pairs + p0;
                    for (std::int64_t q = 0; q < n; ++q)
                        dst[q] = static_cast<float>(half[i][0][q] * g[j][0] + half[i][1][q] * g[j][1] +
                                                    half[i][2][q] * g[j][2]);
                }
        }
    });
    return u;
}

/// Calls f(lo, hi) on parts of [0, n) across the threads.
template <class F>
void winograd_split(std::int64_t n, F&& f) {
    parallel_for_chunks(0, n, 1, std::forward<F>(f));
}

/// Splits blocks [0, blocks) into one contiguous run per thread (as the
/// im2col convolutions do, so partial sums are added in a fixed order).
template <class F>
void run_winograd_slots(std::int64_t blocks, std::int64_t slots, F&& f) {
    parallel_for_chunks(0, slots, 1, [&](std::int64_t lo, std::int64_t hi) {
        for (std::int64_t slot = lo; slot < hi; ++slot) f(slot, blocks * slot / slots, blocks * (slot + 1) / slots);
    });
}

/// y = conv(x, w) (+ bias) for a kernel already transformed by winograd_kernels.
template <int M>
void winograd_convolve(const WinogradShape& s, const float* x, const std::vector<float>& u, const float* bias,
                       float* y) {
    constexpr int points = (M + 2) * (M + 2);
    const WinogradTiling<M> tiling(s);
    const std::int64_t depth = s.depth(), cout = s.out_channels;
    if (tiling.shared(s)) {
        WinogradScratch& scratch = WinogradScratch::of_this_thread();
        WinogradBlock& block = scratch.block;
        block.plan(s, tiling, 0, tiling.total);
        block.stride = block.lanes;
        scratch.hold(block, points, depth, cout);
        winograd_split(depth, [&](std::int64_t lo, std::int64_t hi) { winograd_input_tiles<M>(s, x, block, lo, hi); });
        winograd_split(points, [&](std::int64_t lo, std::int64_t hi) { winograd_multiply(s, u, block, lo, hi); });
        winograd_split(cout, [&](std::int64_t lo, std::int64_t hi) { winograd_output_tiles<M>(s, block, bias, y, lo, hi); });
        return;
    }
    const std::int64_t size = tiling.block(s), blocks = (tiling.total + size - 1) / size;
    run_winograd_slots(blocks, std::clamp<std::int64_t>(blocks, 1, num_threads()),
                       [&](std::int64_t, std::int64_t lo, std::int64_t hi) {
                           WinogradScratch& scratch = WinogradScratch::of_this_thread();
                           WinogradBlock& block = scratch.block;
                           for (std::int64_t b = lo; b < hi; ++b) {
                               block.plan(s, tiling, b * size, std::min(size, tiling.total - b * size));
                               block.stride = size;
                               scratch.hold(block, points, depth, cout);
                               winograd_input_tiles<M>(s, x, block, 0, depth);
                               winograd_multiply(s, u, block, 0, points);
                               winograd_output_tiles<M>(s, block, bias, y, 0, cout);
                           }
                       });
}

/// y = conv(x, w) + bias; w [C_out, C_in, taps, 3, 3], bias may be null.
template <int M = kWinogradTile>
void winograd_conv_forward(const WinogradShape& s, const float* x, const float* w, const float* bias, float* y) {
    winograd_convolve<M>(s, x, winograd_kernels<M>(s, w), bias, y);
}

/// grad_x of y = conv(x, w), from grad_y: the flipped, channel-swapped
/// kernel convolved over grad_y (overwrites grad_x).
template <int M = kWinogradTile>
void winograd_conv_grad_input(const WinogradShape& s, const float* w, const float* gy, float* gx) {
    const WinogradShape g = s.input_gradient();
    const std::int64_t taps = s.taps;
    std::vector<float> flipped(static_cast<std::size_t>(s.out_channels * s.in_channels * taps * 9));
    parallel_for_chunks(0, s.in_channels, 1, [&](std::int64_t lo, std::int64_t hi) {
        for (std::int64_t c = lo; c < hi; ++c)
            for (std::int64_t o = 0; o < s.out_channels; ++o)
                for (std::int64_t dt = 0; dt < taps; ++dt) {
                    const float* src = w + ((o * s.in_channels + c) * taps + (taps - 1 - dt)) * 9;
                    float* dst = flipped.data() + ((c * s.out_channels + o) * taps + dt) * 9;
                    for (int e = 0; e < 9; ++e) dst[e] = src[8 - e];
                }
    });
    winograd_convolve<M>(g, gy, winograd_kernels<M>(g, flipped.data()), nullptr, gx);
}

/// grad_w of y = conv(x, w), from x and grad_y (overwrites grad_w):
/// Gᵀ [Σ over tiles (A ∂y Aᵀ) ⊙ (Bᵀ d B)] G, the sum per point ξ a product
/// [C_out × tiles] · [tiles × depth]. Threads that walk blocks of their own
/// keep partial sums, added in thread order.
template <int M = kWinogradTile>
void winograd_conv_grad_weight(const WinogradShape& s, const float* x, const float* gy, float* gw) {
    constexpr int alpha = M + 2, points = alpha * alpha;
    const WinogradTiling<M> tiling(s);
    const std::int64_t depth = s.depth(), cout = s.out_channels, pairs = cout * depth;
    std::vector<std::vector<float>> sums;
    if (tiling.shared(s)) {
        sums.emplace_back(static_cast<std::size_t>(points * pairs));
        WinogradScratch& scratch = WinogradScratch::of_this_thread();
        WinogradBlock& block = scratch.block;
        block.plan(s, tiling, 0, tiling.total);
        block.stride = block.lanes;
        scratch.hold(block, points, depth, cout);
        winograd_split(depth, [&](std::int64_t lo, std::int64_t hi) { winograd_input_tiles<M>(s, x, block, lo, hi); });
        winograd_split(cout, [&](std::int64_t lo, std::int64_t hi) { winograd_gradient_tiles<M>(s, gy, block, lo, hi); });
        winograd_split(points, [&](std::int64_t lo, std::int64_t hi) {
            winograd_weight_products(s, block, sums[0].data(), lo, hi, false);
        });
    } else {
        const std::int64_t size = tiling.block(s), blocks = (tiling.total + size - 1) / size;
        const std::int64_t slots = std::clamp<std::int64_t>(blocks, 1, num_threads());
        sums.resize(static_cast<std::size_t>(slots));
        run_winograd_slots(blocks, slots, [&](std::int64_t slot, std::int64_t lo, std::int64_t hi) {
            std::vector<float>& sum = sums[static_cast<std::size_t>(slot)];
            sum.assign(static_cast<std::size_t>(points * pairs), 0.0f);
            WinogradScratch& scratch = WinogradScratch::of_this_thread();
            WinogradBlock& block = scratch.block;
            for (std::int64_t b = lo; b < hi; ++b) {
                block.plan(s, tiling, b * size, std::min(size, tiling.total - b * size));
                block.stride = size;
                scratch.hold(block, points, depth, cout);
                winograd_input_tiles<M>(s, x, block, 0, depth);
                winograd_gradient_tiles<M>(s, gy, block, 0, cout);
                winograd_weight_products(s, block, sum.data(), 0, points, true);
            }
        });
    }
    // gw[p] = Gᵀ total[p] G, total the sum of the parts; eight pairs at a time.
    const auto& g = WinogradTransforms<M>::kernel;
    constexpr std::int64_t L = 8;
    parallel_for_chunks(0, (pairs + L - 1) / L, 16, [&](std::int64_t lo, std::int64_t hi) {
        for (std::int64_t chunk = lo; chunk < hi; ++chunk) {
            const std::int64_t p0 = chunk * L, n = std::min(L, pairs - p0);
            double total[points][L] = {}, half[alpha][3][L] = {};
            for (const auto& part : sums)
                for (int xi = 0; xi < points; ++xi)
                    for (std::int64_t q = 0; q < n; ++q) total[xi][q] += part[static_cast<std::size_t>(xi * pairs + p0 + q)];
            for (int i = 0; i < alpha; ++i)
                for (int j = 0; j < alpha; ++j)
                    for (int b = 0; b < 3; ++b)
                        for (std::int64_t q = 0; q < L; ++q) half[i][b][q] += total[i * alpha + j][q] * g[j][b];
            for (int a = 0; a < 3; ++a)
                for (int b = 0; b < 3; ++b) {
                    double v[L] = {};
                    for (int i = 0; i < alpha; ++i)
                        for (std::int64_t q = 0; q < L; ++q) v[q] += g[i][a] * half[i][b][q];
                    for (std::int64_t q = 0; q < n; ++q) gw[(p0 + q) * 9 + a * 3 + b] = static_cast<float>(v[q]);
                }
        }
    });
}

}  // namespace vgt::detail
