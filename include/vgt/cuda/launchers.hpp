#pragma once
// The CUDA backend's launchers: plain functions over device pointers that
// queue kernels and cuBLAS calls. vgt's operations call them for CUDA
// tensors (vgt/cuda/tensor_ops.hpp); their definitions live in
// vgt/cuda/backend.cu, the one CUDA unit a program compiles (CMake's
// vgt::vgt target adds it). This header includes nothing but the standard
// library and the plain parameter structs of the kernel headers, so that
// nvcc and any C++ compiler can read it.
//
// Launchers never throw: nvcc compiles them, and vgt's error formatting
// needs a C++20 compiler. Each returns a Status naming the failed call, and
// the callers turn it into vgt::Error.

#include <cstddef>
#include <cstdint>

#include "vgt/ops/dropout_kernels.hpp"
#include "vgt/ops/pool_kernels.hpp"

namespace vgt::cuda {

/// The most dimensions a strided kernel walks after merging contiguous ones.
inline constexpr int kMaxRank = 8;

enum class Scalar : std::uint8_t { Float32, Float64 };

/// Extents and per-operand element strides of a row-major walk over `numel`
/// elements; operand 0 is the output.
template <int N>
struct StridedArgs {
    int rank = 0;
    std::int64_t numel = 0;
    std::int64_t shape[kMaxRank] = {};
    std::int64_t strides[N][kMaxRank] = {};
};

/// The point-wise bodies of vgt/ops/pointwise_kernels.hpp, named so that a
/// plain C++ caller can pick one of the instantiations in backend.cu.
/// `a` and `b` carry the bodies' parameters (Clamp's bounds, the scalar of
/// AddScalar, ...).
enum class UnaryKind : std::uint8_t {
    Neg, Exp, Log, Sqrt, Rsqrt, Sigmoid, Tanh, Relu, Silu, Gelu, Abs,
    Clamp, PowScalar, AddScalar, MulScalar, ScalarDiv,
};
struct UnaryBody {
    UnaryKind kind = UnaryKind::Neg;
    double a = 0, b = 0;
};
enum class BinaryKind : std::uint8_t { Add, Sub, Mul, Div };

/// Success, or the failed call and the runtime's words for the failure.
struct Status {
    const char* call = nullptr;
    const char* message = nullptr;
    bool ok() const { return call == nullptr; }
};

// ----- point-wise ------------------------------------------------------------
/// out = f(in) over a strided walk (operands: out, in).
Status map_unary(Scalar scalar, UnaryBody body, const StridedArgs<2>& walk, void* out, const void* in);
/// dx = g · f'(x, y) over n contiguous elements.
Status unary_backward(Scalar scalar, UnaryBody body, std::int64_t n, const void* g, const void* x, const void* y,
                      void* dx);
/// out = f(a, b) over a strided walk with broadcast strides (operands: out, a, b).
Status map_binary(Scalar scalar, BinaryKind kind, const StridedArgs<3>& walk, void* out, const void* a,
                  const void* b);
/// Every element of a strided walk (operand 0) set to `value`.
Status fill(Scalar scalar, const StridedArgs<1>& walk, double value, void* out);
/// dst = src, element by element, for elements of `width` bytes (operands: dst, src).
Status copy_strided(std::size_t width, const StridedArgs<2>& walk, void* dst, const void* src);

// ----- reductions --------------------------------------------------------------
/// out[r] = Σ_c in[r, c] for a contiguous [rows, cols] matrix, summed in double.
Status sum_rows(Scalar scalar, std::int64_t rows, std::int64_t cols, const void* in, void* out);
/// index[r] (and value[r], unless value is null) = the first maximum of row
/// r of a contiguous [rows, inner] matrix.
Status argmax_rows(Scalar scalar, std::int64_t rows, std::int64_t inner, const void* in, std::int64_t* index,
                   void* value);
/// grad_in[(b·extent + index[r])·after + a] = grad_out[r] for each of the
/// `rows` outputs r = b·after + a; grad_in is zeroed beforehand.
Status scatter_to_argmax(Scalar scalar, std::int64_t rows, std::int64_t extent, std::int64_t after,
                         const void* grad_out, const std::int64_t* index, void* grad_in);
/// Softmax (or log-softmax) of a contiguous tensor seen as [outer, extent,
/// inner], along `extent`.
Status softmax_lines(Scalar scalar, bool log, std::int64_t outer, std::int64_t extent, std::int64_t inner,
                     const void* x, void* y);
/// The gradient of softmax_lines given its output y and the incoming gradient g.
Status softmax_lines_backward(Scalar scalar, bool log, std::int64_t outer, std::int64_t extent, std::int64_t inner,
                              const void* y, const void* g, void* dx);

// ----- normalisation -----------------------------------------------------------------
/// Rows of `channels_per_row`·`span` contiguous values (channel-major), row r
/// using affine channels [(r mod groups)·channels_per_row, +channels_per_row):
/// the layout of layer_norm (span 1) and group_norm alike.
struct NormRows {
    std::int64_t rows = 0, channels_per_row = 0, span = 1, groups = 1;
};
/// y = (x − mean)·rstd·w + b per row; writes each row's mean and
/// rstd = 1/sqrt(var + eps) (biased variance) in double.
Status norm_rows(Scalar scalar, const NormRows& layout, double eps, const void* x, const void* w, const void* b,
                 void* y, double* mean, double* rstd);
/// dx = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) with ĝ = g·w, per row.
Status norm_rows_backward_input(Scalar scalar, const NormRows& layout, const void* x, const void* g, const void* w,
                                const double* mean, const double* rstd, void* dx);
/// dw[c] = Σ g·x̂ and db[c] = Σ g over every element of channel c (either
/// output may be null).
Status norm_rows_backward_affine(Scalar scalar, const NormRows& layout, const void* x, const void* g,
                                 const double* mean, const double* rstd, void* dw, void* db);

// ----- lookups ------------------------------------------------------------------------
/// out[i, :] = table[index[i], :] for `count` rows of `width` elements.
Status embedding_forward(Scalar scalar, std::int64_t count, std::int64_t width, const std::int64_t* index,
                         const void* table, void* out);
/// grad[v, :] = Σ over i with index[i] = v of g[i, :], for a table of `vocab` rows (summed in index order).
Status embedding_backward(Scalar scalar, std::int64_t vocab, std::int64_t count, std::int64_t width,
                          const std::int64_t* index, const void* g, void* grad);

// ----- resampling and optimisers ---------------------------------------------------------
/// Extents (d, h, w) of [P, D, H, W] planes and the integer factors of
/// nearest-neighbour upsampling.
struct UpsampleShape {
    std::int64_t d = 1, h = 1, w = 1, sd = 1, sh = 1, sw = 1;
};
/// out = in upsampled; `out_numel` elements of contiguous output.
Status upsample_nearest(Scalar scalar, const UpsampleShape& shape, std::int64_t out_numel, const void* in, void* out);
/// grad_in = the sum of each input element's block of grad_out.
Status upsample_nearest_backward(Scalar scalar, const UpsampleShape& shape, std::int64_t in_numel,
                                 const void* grad_out, void* grad_in);

/// Dropout of n contiguous elements: mask[i] = keep(i), out[i] = x[i]·scale
/// where kept and 0 elsewhere (scale rounded to the element type, as on the CPU).
Status dropout(Scalar scalar, std::int64_t n, const kernels::DropoutKeep& keep, double scale, const void* x, void* out,
               std::uint8_t* mask);
/// grad_in[i] = grad_out[i]·scale where mask[i], else 0.
Status dropout_backward(Scalar scalar, std::int64_t n, double scale, const void* grad_out, const std::uint8_t* mask,
                        void* grad_in);

/// out = the mean of each window of in, over [P, D, H, W] planes; `out_numel` outputs.
Status avg_pool(Scalar scalar, const kernels::AvgPoolGeometry& geometry, std::int64_t out_numel, const void* in,
                void* out);
/// grad_in = the adjoint of avg_pool applied to grad_out; `in_numel` inputs.
Status avg_pool_backward(Scalar scalar, const kernels::AvgPoolGeometry& geometry, std::int64_t in_numel,
                         const void* grad_out, void* grad_in);

/// Bilinear resizing of `planes` [h, w] planes to [oh, ow]; `rows` and
/// `cols` are device tables of kernels::LinearTap of the element type, one
/// per output row and column.
struct BilinearResizeShape {
    std::int64_t planes = 0, h = 0, w = 0, oh = 0, ow = 0;
};
/// out [planes, oh, ow] = in [planes, h, w] resized.
Status upsample_bilinear(Scalar scalar, const BilinearResizeShape& shape, const void* rows, const void* cols,
                         const void* in, void* out);
/// grad_in [planes, h, w] = the adjoint of the resize applied to grad_out [planes, oh, ow].
Status upsample_bilinear_backward(Scalar scalar, const BilinearResizeShape& shape, const void* rows, const void* cols,
                                  const void* grad_out, void* grad_in);

/// Bilinear grid sampling of [n, c, h, w] images at [n, ho, wo, 2] points
/// (ops/grid_sample.hpp); all tensors contiguous.
struct GridSampleShape {
    std::int64_t n = 0, c = 0, h = 0, w = 0, ho = 0, wo = 0;
    bool border = false;  // GridPadding::Border, else Zeros
    bool align_corners = false;
};
/// out [n, c, ho, wo] = in sampled at grid.
Status grid_sample_forward(Scalar scalar, const GridSampleShape& shape, const void* in, const void* grid, void* out);
/// grad_in [n, c, h, w] = every point's grad_out scattered onto its four neighbours (one thread per plane, so
/// the sums run in the CPU's order).
Status grid_sample_backward_input(Scalar scalar, const GridSampleShape& shape, const void* grid, const void* grad_out,
                                  void* grad_in);
/// grad_grid [n, ho, wo, 2] = the derivative of each point's weights, summed over channels.
Status grid_sample_backward_grid(Scalar scalar, const GridSampleShape& shape, const void* in, const void* grid,
                                 const void* grad_out, void* grad_grid);

/// The constants of one AdamW step, in double; the launcher rounds them to
/// the element type exactly as the CPU does.
struct AdamWStep {
    double decay_factor = 1, beta1 = 0, one_minus_beta1 = 1, beta2 = 0, one_minus_beta2 = 1;
    double bias_correction2_sqrt = 1, eps = 0, neg_step_size = 0;
};
/// One AdamW step over n contiguous elements (max_exp_avg_sq null without amsgrad).
Status adamw_update(Scalar scalar, std::int64_t n, const AdamWStep& step, void* param, const void* grad,
                    void* exp_avg, void* exp_avg_sq, void* max_exp_avg_sq);

// ----- attention over the frames of each pixel ---------------------------------------
/// Element types of pixel attention's tensors; arithmetic is float32 for
/// Float32 and BFloat16 storage, float64 for Float64.
enum class AttentionStorage : std::uint8_t { Float32, Float64, BFloat16 };
/// The most frames pixel attention takes on CUDA (a query's scores live in registers).
inline constexpr std::int64_t kPixelAttentionMaxFrames = 64;
/// The most elements of one video's packed projection (frames·3·channels·pixels)
/// pixel attention takes on CUDA: its kernels index within a video in 32 bits.
inline constexpr std::int64_t kPixelAttentionMaxVideoElements = 2147483647;
/// Sizes of ops/pixel_attention.hpp's attention: packed qkv [batch, frames,
/// 3·channels, pixels], output [batch, frames, channels, pixels], `heads`
/// heads of channels/heads; `causal` hides later frames, before the softmax
/// or (post_softmax) after it.
struct PixelAttentionShape {
    std::int64_t batch = 0, frames = 0, channels = 0, heads = 0, pixels = 0;
    double scale = 1;
    bool causal = false, post_softmax = false;
};
/// out = attention(qkv); lse [batch, heads, frames, pixels] receives each
/// query row's log-sum-exp. `bias` [heads, frames, frames] and `rotary`
/// [4, frames, d/2] (cos and sin for queries, then for keys, turning channel
/// pairs (2i, 2i+1)) are of the arithmetic type, and either may be null.
Status pixel_attention_forward(AttentionStorage storage, const PixelAttentionShape& shape, const void* qkv,
                               const void* bias, const void* rotary, void* out, void* lse);
/// dqkv (every element written) and, when not null, dbias from grad_out and
/// the forward's lse. `workspace` holds 2·batch·heads·frames²·pixels values
/// of the arithmetic type.
Status pixel_attention_backward(AttentionStorage storage, const PixelAttentionShape& shape, const void* qkv,
                                const void* bias, const void* rotary, const void* lse, const void* grad_out,
                                void* dqkv, void* dbias, void* workspace);

// ----- matrix products -------------------------------------------------------------
/// C[b] = A[b] · B[b] for `batches` consecutive matrix triples: A is m×k, B
/// k×n, each row-major or, when its flag says so, column-major; C is
/// row-major. Runs on cuBLAS with fp32 (or fp64) arithmetic throughout.
Status gemm_batched(int device, Scalar scalar, std::int64_t batches, std::int64_t m, std::int64_t k, std::int64_t n,
                    const void* a, bool a_column_major, const void* b, bool b_column_major, void* c);

// ----- convolutions -----------------------------------------------------------------
/// Sizes of one convolution over 1 to 3 spatial dimensions; tensors are
/// contiguous [N, C, spatial...], weights [out, in/groups, kernel...].
struct ConvShape {
    int spatial = 2;
    std::int64_t batch = 0, in_channels = 0, out_channels = 0, groups = 1;
    std::int64_t in[3] = {}, kernel[3] = {}, out[3] = {}, stride[3] = {}, padding[3] = {}, dilation[3] = {};
};
/// y = w ⊛ x (+ bias when not null), on cuDNN with the algorithm cuDNN
/// measured fastest for this shape (measured once, then cached), in plain
/// fp32 arithmetic (no TF32).
Status conv_forward(int device, Scalar scalar, const ConvShape& shape, const void* x, const void* w,
                    const void* bias, void* y);
/// gx = the gradient of the input given the gradient of the output gy.
Status conv_backward_input(int device, Scalar scalar, const ConvShape& shape, const void* w, const void* gy,
                           void* gx);
/// gw = the gradient of the weight given the input x and gy.
Status conv_backward_weight(int device, Scalar scalar, const ConvShape& shape, const void* x, const void* gy,
                            void* gw);

/// Waits for all work queued on `device`.
Status synchronize(int device);

}  // namespace vgt::cuda
