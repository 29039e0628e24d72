#pragma once
// CUDA tensors through the launchers of vgt/cuda/launchers.hpp: the checks
// (dtype, one device for all operands, dimensions a kernel can walk), the
// strided walks, and the translation of launcher failures into vgt::Error.
// vgt's operations call these for tensors on a CUDA device; in a build
// without the CUDA backend a CUDA tensor cannot exist, and each of these
// reports that.

#include <array>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <string_view>

#include "vgt/core/cuda_error.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/cuda/launchers.hpp"
#include "vgt/ops/grid_sample_kernels.hpp"
#include "vgt/ops/pointwise_kernels.hpp"
#include "vgt/ops/strided_loop.hpp"

namespace vgt::cuda {

// ----- naming the point-wise bodies --------------------------------------------------

inline UnaryBody describe(kernels::Neg) { return {UnaryKind::Neg}; }
inline UnaryBody describe(kernels::Exp) { return {UnaryKind::Exp}; }
inline UnaryBody describe(kernels::Log) { return {UnaryKind::Log}; }
inline UnaryBody describe(kernels::Sqrt) { return {UnaryKind::Sqrt}; }
inline UnaryBody describe(kernels::Rsqrt) { return {UnaryKind::Rsqrt}; }
inline UnaryBody describe(kernels::Sigmoid) { return {UnaryKind::Sigmoid}; }
inline UnaryBody describe(kernels::Tanh) { return {UnaryKind::Tanh}; }
inline UnaryBody describe(kernels::Relu) { return {UnaryKind::Relu}; }
inline UnaryBody describe(kernels::Silu) { return {UnaryKind::Silu}; }
inline UnaryBody describe(kernels::Gelu) { return {UnaryKind::Gelu}; }
inline UnaryBody describe(kernels::Abs) { return {UnaryKind::Abs}; }
inline UnaryBody describe(kernels::Clamp body) { return {UnaryKind::Clamp, body.low, body.high}; }
inline UnaryBody describe(kernels::PowScalar body) { return {UnaryKind::PowScalar, body.p}; }
inline UnaryBody describe(kernels::AddScalar body) { return {UnaryKind::AddScalar, body.s}; }
inline UnaryBody describe(kernels::MulScalar body) { return {UnaryKind::MulScalar, body.s}; }
inline UnaryBody describe(kernels::ScalarDiv body) { return {UnaryKind::ScalarDiv, body.s}; }
inline BinaryKind describe(kernels::Add) { return BinaryKind::Add; }
inline BinaryKind describe(kernels::Sub) { return BinaryKind::Sub; }
inline BinaryKind describe(kernels::Mul) { return BinaryKind::Mul; }
inline BinaryKind describe(kernels::Div) { return BinaryKind::Div; }

/// Whether the CUDA backend has an instantiation of this body.
template <class Body>
concept Described = requires(Body body) { describe(body); };

// ----- checks and walks -----------------------------------------------------------------

/// Throws vgt::Error for a failed launcher, naming the operation and the call.
inline void check(Status status, std::string_view op) {
    if (!status.ok()) fail(op, "expected the CUDA call {} to succeed, found: {}", status.call, status.message);
}

/// The element type of a float32 or float64 CUDA tensor.
inline Scalar scalar_of(const Tensor& t, std::string_view op) {
    switch (t.dtype()) {
        case DType::Float32: return Scalar::Float32;
        case DType::Float64: return Scalar::Float64;
        default: fail(op, "expected a float32 or float64 CUDA tensor, found {}", dtype_name(t.dtype()));
    }
}

/// Checks that every operand lives on `first`'s device and makes it current.
inline void use_device_of(std::initializer_list<const Tensor*> operands, std::string_view op) {
    const Device device = (*operands.begin())->device();
    for (const Tensor* t : operands)
        VGT_CHECK(t->device() == device, op, "expected operands on one device, found {} and {}", device.str(),
                  t->device().str());
#if defined(VGT_WITH_CUDA)
    VGT_CUDA_CHECK(cudaSetDevice(device.index));
#endif
}

/// The strided walk over `shape` for N operands, dimensions merged where
/// every operand is contiguous across them.
template <int N>
StridedArgs<N> walk_of(const Shape& shape, const std::array<Strides, N>& strides, std::string_view op) {
    const detail::StridedLayout<N> merged = detail::coalesce<N>(shape, strides);
    VGT_CHECK(merged.shape.rank() <= kMaxRank, op,
              "expected at most {} dimensions after merging contiguous ones, found {} (shape {})", kMaxRank,
              merged.shape.rank(), shape);
    StridedArgs<N> walk;
    walk.rank = merged.shape.rank();
    walk.numel = shape.numel();
    for (int d = 0; d < walk.rank; ++d) {
        walk.shape[d] = merged.shape[d];
        for (int k = 0; k < N; ++k) walk.strides[k][d] = merged.strides[k][d];
    }
    return walk;
}

[[noreturn]] inline void no_backend(std::string_view op) {
    fail(op, "expected the CUDA backend, found a build without it (configure with -DVGT_WITH_CUDA=ON)");
}

// ----- operations ----------------------------------------------------------------------

/// body(x) as a new contiguous tensor.
template <Described Body>
Tensor unary(const Tensor& x, Body body, std::string_view op) {
#if defined(VGT_WITH_CUDA)
    use_device_of({&x}, op);
    Tensor out = Tensor::empty(x.shape(), x.dtype(), x.device());
    check(map_unary(scalar_of(x, op), describe(body), walk_of<2>(x.shape(), {out.strides(), x.strides()}, op),
                    out.raw_data(), x.raw_data()),
          op);
    return out;
#else
    (void)x, (void)body;
    no_backend(op);
#endif
}

/// g · body'(x, y) for contiguous g, x and y of one shape.
template <Described Body>
Tensor unary_gradient(const Tensor& g, const Tensor& x, const Tensor& y, Body body, std::string_view op) {
#if defined(VGT_WITH_CUDA)
    use_device_of({&g, &x, &y}, op);
    Tensor dx = Tensor::empty(y.shape(), y.dtype(), y.device());
    check(unary_backward(scalar_of(y, op), describe(body), y.numel(), g.raw_data(), x.raw_data(), y.raw_data(),
                         dx.raw_data()),
          op);
    return dx;
#else
    (void)g, (void)x, (void)y, (void)body;
    no_backend(op);
#endif
}

/// body(a, b) with broadcasting into a new contiguous tensor of `shape`.
template <Described Body>
Tensor binary(const Tensor& a, const Tensor& b, const Shape& shape, Body body, std::string_view op) {
#if defined(VGT_WITH_CUDA)
    use_device_of({&a, &b}, op);
    Tensor out = Tensor::empty(shape, a.dtype(), a.device());
    const auto walk = walk_of<3>(
        shape, {out.strides(), detail::broadcast_strides(a, shape), detail::broadcast_strides(b, shape)}, op);
    check(map_binary(scalar_of(a, op), describe(body), walk, out.raw_data(), a.raw_data(), b.raw_data()), op);
    return out;
#else
    (void)a, (void)b, (void)shape, (void)body;
    no_backend(op);
#endif
}

/// Every element of t set to value.
inline void fill(const Tensor& t, double value) {
#if defined(VGT_WITH_CUDA)
    use_device_of({&t}, "fill");
    check(cuda::fill(scalar_of(t, "fill"), walk_of<1>(t.shape(), {t.strides()}, "fill"), value, t.raw_data()),
          "fill");
#else
    (void)t, (void)value;
    no_backend("fill");
#endif
}

/// dst = src element by element (one shape and dtype; strides may differ).
inline void copy(const Tensor& dst, const Tensor& src) {
#if defined(VGT_WITH_CUDA)
    use_device_of({&dst, &src}, "copy");
    const auto walk = walk_of<2>(dst.shape(), {dst.strides(), src.strides()}, "copy");
    check(copy_strided(dtype_size(dst.dtype()), walk, dst.raw_data(), src.raw_data()), "copy");
#else
    (void)dst, (void)src;
    no_backend("copy");
#endif
}

/// out[r] = Σ_c rows[r, c] for a contiguous [R, C] tensor; out holds R elements.
inline void sum_rows(const Tensor& rows, const Tensor& out, std::string_view op) {
#if defined(VGT_WITH_CUDA)
    use_device_of({&rows, &out}, op);
    check(cuda::sum_rows(scalar_of(rows, op), rows.size(0), rows.size(1), rows.raw_data(), out.raw_data()), op);
#else
    (void)rows, (void)out;
    no_backend(op);
#endif
}

/// The first maximum of each row of contiguous `rows` [R, inner]: its index
/// into int64 `index` [R], and its value into `value` when that is defined.
inline void argmax_rows(const Tensor& rows, const Tensor& index, const Tensor& value, std::string_view op) {
#if defined(VGT_WITH_CUDA)
    use_device_of({&rows, &index}, op);
    if (value.defined()) use_device_of({&rows, &value}, op);
    check(cuda::argmax_rows(scalar_of(rows, op), rows.size(0), rows.size(1), rows.raw_data(),
                            static_cast<std::int64_t*>(index.raw_data()),
                            value.defined() ? value.raw_data() : nullptr),
          op);
#else
    (void)rows, (void)index, (void)value;
    no_backend(op);
#endif
}

/// max's gradient: grad_out's R values into zeroed, contiguous grad_in laid
/// out [R / after, extent, after], at the maxima `index` [R].
inline void scatter_to_argmax(const Tensor& grad_out, const Tensor& index, const Tensor& grad_in, std::int64_t extent,
                              std::int64_t after, std::string_view op) {
#if defined(VGT_WITH_CUDA)
    use_device_of({&grad_out, &index, &grad_in}, op);
    check(cuda::scatter_to_argmax(scalar_of(grad_out, op), grad_out.numel(), extent, after, grad_out.raw_data(),
                                  static_cast<const std::int64_t*>(index.raw_data()), grad_in.raw_data()),
          op);
#else
    (void)grad_out, (void)index, (void)grad_in, (void)extent, (void)after;
    no_backend(op);
#endif
}

/// Softmax or log-softmax of contiguous x seen as [outer, extent, inner].
inline Tensor softmax(const Tensor& x, std::int64_t outer, std::int64_t extent, std::int64_t inner, bool log,
                      std::string_view op) {
#if defined(VGT_WITH_CUDA)
    use_device_of({&x}, op);
    Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
    check(softmax_lines(scalar_of(x, op), log, outer, extent, inner, x.raw_data(), y.raw_data()), op);
    return y;
#else
    (void)x, (void)outer, (void)extent, (void)inner, (void)log;
    no_backend(op);
#endif
}

/// The gradient of softmax given its contiguous output y and contiguous g.
inline Tensor softmax_gradient(const Tensor& y, const Tensor& g, std::int64_t outer, std::int64_t extent,
                               std::int64_t inner, bool log, std::string_view op) {
#if defined(VGT_WITH_CUDA)
    use_device_of({&y, &g}, op);
    Tensor dx = Tensor::empty(y.shape(), y.dtype(), y.device());
    check(softmax_lines_backward(scalar_of(y, op), log, outer, extent, inner, y.raw_data(), g.raw_data(),
                                 dx.raw_data()),
          op);
    return dx;
#else
    (void)y, (void)g, (void)outer, (void)extent, (void)inner, (void)log;
    no_backend(op);
#endif
}

/// out[b] = a[b] · b[b] for `batches` matrix triples laid out back to back
/// (each operand row- or column-major as flagged; out row-major).
inline void gemm(const Tensor& a, bool a_column_major, const Tensor& b, bool b_column_major, const Tensor& out,
                 std::int64_t batches, std::int64_t m, std::int64_t k, std::int64_t n, std::string_view op) {
#if defined(VGT_WITH_CUDA)
    use_device_of({&a, &b, &out}, op);
    constexpr std::int64_t kIntMax = std::numeric_limits<int>::max();
    VGT_CHECK(batches <= kIntMax && m <= kIntMax && k <= kIntMax && n <= kIntMax, op,
              "expected cuBLAS-sized products (each extent below 2^31), found {} batches of {}x{} by {}x{}", batches,
              m, k, k, n);
    check(gemm_batched(a.device().index, scalar_of(a, op), batches, m, k, n, a.raw_data(), a_column_major,
                       b.raw_data(), b_column_major, out.raw_data()),
          op);
#else
    (void)a, (void)a_column_major, (void)b, (void)b_column_major, (void)out, (void)batches, (void)m, (void)k, (void)n;
    no_backend(op);
#endif
}

/// Layer/group normalisation of contiguous x by rows (launchers.hpp's
/// NormRows); fills y, and the per-row mean and rstd (float64 tensors).
inline void normalize_rows(const Tensor& x, const NormRows& layout, const Tensor& w, const Tensor& b, double eps,
                           const Tensor& y, const Tensor& mean, const Tensor& rstd, std::string_view op) {
#if defined(VGT_WITH_CUDA)
    use_device_of({&x, &w, &b, &y, &mean, &rstd}, op);
    check(norm_rows(scalar_of(x, op), layout, eps, x.raw_data(), w.raw_data(), b.raw_data(), y.raw_data(),
                    mean.data<double>(), rstd.data<double>()),
          op);
#else
    (void)x, (void)layout, (void)w, (void)b, (void)eps, (void)y, (void)mean, (void)rstd;
    no_backend(op);
#endif
}

/// The gradients of normalize_rows: dx, and dw/db (flat [channels]) where defined.
inline void normalize_rows_gradients(const Tensor& x, const Tensor& g, const Tensor& w, const Tensor& mean,
                                     const Tensor& rstd, const NormRows& layout, const Tensor& dx, const Tensor& dw,
                                     const Tensor& db, std::string_view op) {
#if defined(VGT_WITH_CUDA)
    use_device_of({&x, &g, &w, &mean, &rstd}, op);
    const Scalar scalar = scalar_of(x, op);
    if (dx.defined())
        check(norm_rows_backward_input(scalar, layout, x.raw_data(), g.raw_data(), w.raw_data(), mean.data<double>(),
                                       rstd.data<double>(), dx.raw_data()),
              op);
    if (dw.defined() || db.defined())
        check(norm_rows_backward_affine(scalar, layout, x.raw_data(), g.raw_data(), mean.data<double>(),
                                        rstd.data<double>(), dw.defined() ? dw.raw_data() : nullptr,
                                        db.defined() ? db.raw_data() : nullptr),
              op);
#else
    (void)x, (void)g, (void)w, (void)mean, (void)rstd, (void)layout, (void)dx, (void)dw, (void)db;
    no_backend(op);
#endif
}

/// Rows of contiguous `table` [V, D] at contiguous int64 `index` into `out` [..., D].
inline void embedding(const Tensor& table, const Tensor& index, const Tensor& out, std::string_view op) {
#if defined(VGT_WITH_CUDA)
    use_device_of({&table, &index, &out}, op);
    check(embedding_forward(scalar_of(table, op), index.numel(), table.size(1), index.data<std::int64_t>(),
                            table.raw_data(), out.raw_data()),
          op);
#else
    (void)table, (void)index, (void)out;
    no_backend(op);
#endif
}

/// The gradient of embedding: contiguous g [..., D] summed into grad [V, D] by index.
inline void embedding_gradient(const Tensor& g, const Tensor& index, const Tensor& grad, std::string_view op) {
#if defined(VGT_WITH_CUDA)
    use_device_of({&g, &index, &grad}, op);
    check(embedding_backward(scalar_of(g, op), grad.size(0), index.numel(), grad.size(1), index.data<std::int64_t>(),
                             g.raw_data(), grad.raw_data()),
          op);
#else
    (void)g, (void)index, (void)grad;
    no_backend(op);
#endif
}

/// Nearest-neighbour upsampling of contiguous `in` into contiguous `out`.
inline void upsample_nearest(const Tensor& in, const Tensor& out, const UpsampleShape& shape, std::string_view op) {
#if defined(VGT_WITH_CUDA)
    use_device_of({&in, &out}, op);
    check(cuda::upsample_nearest(scalar_of(in, op), shape, out.numel(), in.raw_data(), out.raw_data()), op);
#else
    (void)in, (void)out, (void)shape;
    no_backend(op);
#endif
}

/// The launcher's view of a grid_sample geometry over `n` images.
inline GridSampleShape grid_sample_shape(std::int64_t n, const kernels::GridSampleGeometry& g) {
    return {n, g.c, g.h, g.w, g.ho, g.wo, g.padding == GridPadding::Border, g.align_corners};
}

/// Bilinear sampling of contiguous `in` [N, C, H, W] at contiguous `grid` into `out`.
inline void grid_sample(const Tensor& in, const Tensor& grid, const Tensor& out,
                        const kernels::GridSampleGeometry& geometry, std::string_view op) {
#if defined(VGT_WITH_CUDA)
    use_device_of({&in, &grid, &out}, op);
    check(grid_sample_forward(scalar_of(in, op), grid_sample_shape(in.size(0), geometry), in.raw_data(),
                              grid.raw_data(), out.raw_data()),
          op);
#else
    (void)in, (void)grid, (void)out, (void)geometry;
    no_backend(op);
#endif
}

/// The gradient of grid_sample with respect to its input, into `grad_in`.
inline void grid_sample_input_gradient(const Tensor& grid, const Tensor& grad_out, const Tensor& grad_in,
                                       const kernels::GridSampleGeometry& geometry, std::string_view op) {
#if defined(VGT_WITH_CUDA)
    use_device_of({&grid, &grad_out, &grad_in}, op);
    check(grid_sample_backward_input(scalar_of(grad_out, op), grid_sample_shape(grad_in.size(0), geometry),
                                     grid.raw_data(), grad_out.raw_data(), grad_in.raw_data()),
          op);
#else
    (void)grid, (void)grad_out, (void)grad_in, (void)geometry;
    no_backend(op);
#endif
}

/// The gradient of grid_sample with respect to its grid, into `grad_grid`.
inline void grid_sample_grid_gradient(const Tensor& in, const Tensor& grid, const Tensor& grad_out,
                                      const Tensor& grad_grid, const kernels::GridSampleGeometry& geometry,
                                      std::string_view op) {
#if defined(VGT_WITH_CUDA)
    use_device_of({&in, &grid, &grad_out, &grad_grid}, op);
    check(grid_sample_backward_grid(scalar_of(grad_out, op), grid_sample_shape(in.size(0), geometry), in.raw_data(),
                                    grid.raw_data(), grad_out.raw_data(), grad_grid.raw_data()),
          op);
#else
    (void)in, (void)grid, (void)grad_out, (void)grad_grid, (void)geometry;
    no_backend(op);
#endif
}

/// Dropout of contiguous `x` into `out`, the kept elements marked in uint8 `mask`.
inline void dropout(const Tensor& x, const Tensor& out, const Tensor& mask, const kernels::DropoutKeep& keep,
                    double scale, std::string_view op) {
#if defined(VGT_WITH_CUDA)
    use_device_of({&x, &out, &mask}, op);
    check(cuda::dropout(scalar_of(x, op), x.numel(), keep, scale, x.raw_data(), out.raw_data(),
                        static_cast<std::uint8_t*>(mask.raw_data())),
          op);
#else
    (void)x, (void)out, (void)mask, (void)keep, (void)scale;
    no_backend(op);
#endif
}

/// The gradient of dropout: contiguous grad_out through `mask` into grad_in.
inline void dropout_gradient(const Tensor& grad_out, const Tensor& mask, const Tensor& grad_in, double scale,
                             std::string_view op) {
#if defined(VGT_WITH_CUDA)
    use_device_of({&grad_out, &mask, &grad_in}, op);
    check(dropout_backward(scalar_of(grad_out, op), grad_out.numel(), scale, grad_out.raw_data(),
                           static_cast<const std::uint8_t*>(mask.raw_data()), grad_in.raw_data()),
          op);
#else
    (void)grad_out, (void)mask, (void)grad_in, (void)scale;
    no_backend(op);
#endif
}

/// Average pooling of contiguous `in` into contiguous `out`.
inline void avg_pool(const Tensor& in, const Tensor& out, const kernels::AvgPoolGeometry& geometry,
                     std::string_view op) {
#if defined(VGT_WITH_CUDA)
    use_device_of({&in, &out}, op);
    check(cuda::avg_pool(scalar_of(in, op), geometry, out.numel(), in.raw_data(), out.raw_data()), op);
#else
    (void)in, (void)out, (void)geometry;
    no_backend(op);
#endif
}

/// The gradient of avg_pool: contiguous grad_out into grad_in.
inline void avg_pool_gradient(const Tensor& grad_out, const Tensor& grad_in, const kernels::AvgPoolGeometry& geometry,
                              std::string_view op) {
#if defined(VGT_WITH_CUDA)
    use_device_of({&grad_out, &grad_in}, op);
    check(avg_pool_backward(scalar_of(grad_out, op), geometry, grad_in.numel(), grad_out.raw_data(),
                            grad_in.raw_data()),
          op);
#else
    (void)grad_out, (void)grad_in, (void)geometry;
    no_backend(op);
#endif
}

/// Bilinear resizing of contiguous `in` into contiguous `out`, reading the
/// tap tables `rows` and `cols` (bytes on the same device).
inline void upsample_bilinear(const Tensor& in, const Tensor& out, const Tensor& rows, const Tensor& cols,
                              const BilinearResizeShape& shape, std::string_view op) {
#if defined(VGT_WITH_CUDA)
    use_device_of({&in, &out, &rows, &cols}, op);
    check(cuda::upsample_bilinear(scalar_of(in, op), shape, rows.raw_data(), cols.raw_data(), in.raw_data(),
                                  out.raw_data()),
          op);
#else
    (void)in, (void)out, (void)rows, (void)cols, (void)shape;
    no_backend(op);
#endif
}

/// The gradient of upsample_bilinear: contiguous grad_out into grad_in.
inline void upsample_bilinear_gradient(const Tensor& grad_out, const Tensor& grad_in, const Tensor& rows,
                                       const Tensor& cols, const BilinearResizeShape& shape, std::string_view op) {
#if defined(VGT_WITH_CUDA)
    use_device_of({&grad_out, &grad_in, &rows, &cols}, op);
    check(upsample_bilinear_backward(scalar_of(grad_out, op), shape, rows.raw_data(), cols.raw_data(),
                                     grad_out.raw_data(), grad_in.raw_data()),
          op);
#else
    (void)grad_out, (void)grad_in, (void)rows, (void)cols, (void)shape;
    no_backend(op);
#endif
}

/// The gradient of upsample_nearest: contiguous grad_out into grad_in.
inline void upsample_nearest_gradient(const Tensor& grad_out, const Tensor& grad_in, const UpsampleShape& shape,
                                      std::string_view op) {
#if defined(VGT_WITH_CUDA)
    use_device_of({&grad_out, &grad_in}, op);
    check(upsample_nearest_backward(scalar_of(grad_out, op), shape, grad_in.numel(), grad_out.raw_data(),
                                    grad_in.raw_data()),
          op);
#else
    (void)grad_out, (void)grad_in, (void)shape;
    no_backend(op);
#endif
}

/// One AdamW step of contiguous param and its state (max_exp_avg_sq may be undefined).
inline void adamw_step(const Tensor& param, const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_avg_sq,
                       const Tensor& max_exp_avg_sq, const AdamWStep& step, std::string_view op) {
#if defined(VGT_WITH_CUDA)
    use_device_of({&param, &grad, &exp_avg, &exp_avg_sq}, op);
    check(adamw_update(scalar_of(param, op), param.numel(), step, param.raw_data(), grad.raw_data(),
                       exp_avg.raw_data(), exp_avg_sq.raw_data(),
                       max_exp_avg_sq.defined() ? max_exp_avg_sq.raw_data() : nullptr),
          op);
#else
    (void)param, (void)grad, (void)exp_avg, (void)exp_avg_sq, (void)max_exp_avg_sq, (void)step;
    no_backend(op);
#endif
}

/// y = w ⊛ x (+ bias when defined) for contiguous operands, on cuDNN.
inline Tensor convolution(const ConvShape& shape, const Tensor& x, const Tensor& w, const Tensor& bias,
                          const Shape& out_shape, std::string_view op) {
#if defined(VGT_WITH_CUDA)
    use_device_of({&x, &w}, op);
    if (bias.defined()) use_device_of({&x, &bias}, op);
    Tensor y = Tensor::empty(out_shape, x.dtype(), x.device());
    check(conv_forward(x.device().index, scalar_of(x, op), shape, x.raw_data(), w.raw_data(),
                       bias.defined() ? bias.raw_data() : nullptr, y.raw_data()),
          op);
    return y;
#else
    (void)shape, (void)x, (void)w, (void)bias, (void)out_shape;
    no_backend(op);
#endif
}

/// The input's gradient of a convolution, given the weight and contiguous gy.
inline Tensor convolution_input_gradient(const ConvShape& shape, const Tensor& w, const Tensor& gy,
                                         const Shape& x_shape, std::string_view op) {
#if defined(VGT_WITH_CUDA)
    use_device_of({&w, &gy}, op);
    Tensor gx = Tensor::empty(x_shape, gy.dtype(), gy.device());
    check(conv_backward_input(gy.device().index, scalar_of(gy, op), shape, w.raw_data(), gy.raw_data(),
                              gx.raw_data()),
          op);
    return gx;
#else
    (void)shape, (void)w, (void)gy, (void)x_shape;
    no_backend(op);
#endif
}

/// The weight's gradient of a convolution, given the input and contiguous gy.
inline Tensor convolution_weight_gradient(const ConvShape& shape, const Tensor& x, const Tensor& gy,
                                          const Shape& w_shape, std::string_view op) {
#if defined(VGT_WITH_CUDA)
    use_device_of({&x, &gy}, op);
    Tensor gw = Tensor::empty(w_shape, gy.dtype(), gy.device());
    check(conv_backward_weight(gy.device().index, scalar_of(gy, op), shape, x.raw_data(), gy.raw_data(),
                               gw.raw_data()),
          op);
    return gw;
#else
    (void)shape, (void)x, (void)gy, (void)w_shape;
    no_backend(op);
#endif
}

/// The element type of a float32 or float64 CUDA tensor, for pixel attention.
inline AttentionStorage attention_storage_of(const Tensor& t, std::string_view op) {
    return scalar_of(t, op) == Scalar::Float64 ? AttentionStorage::Float64 : AttentionStorage::Float32;
}

/// Pixel attention of contiguous `qkv` into `out`, each query row's
/// log-sum-exp into `lse`; `bias` and `rotary` contiguous or undefined.
inline void pixel_attention(const PixelAttentionShape& shape, const Tensor& qkv, const Tensor& bias,
                            const Tensor& rotary, const Tensor& out, const Tensor& lse, std::string_view op) {
#if defined(VGT_WITH_CUDA)
    use_device_of({&qkv, &out, &lse}, op);
    if (bias.defined()) use_device_of({&qkv, &bias}, op);
    if (rotary.defined()) use_device_of({&qkv, &rotary}, op);
    check(pixel_attention_forward(attention_storage_of(qkv, op), shape, qkv.raw_data(),
                                  bias.defined() ? bias.raw_data() : nullptr,
                                  rotary.defined() ? rotary.raw_data() : nullptr, out.raw_data(), lse.raw_data()),
          op);
#else
    (void)shape, (void)qkv, (void)bias, (void)rotary, (void)out, (void)lse;
    no_backend(op);
#endif
}

/// The gradients of pixel_attention: dqkv, and dbias when defined.
inline void pixel_attention_gradient(const PixelAttentionShape& shape, const Tensor& qkv, const Tensor& bias,
                                     const Tensor& rotary, const Tensor& lse, const Tensor& grad_out,
                                     const Tensor& dqkv, const Tensor& dbias, std::string_view op) {
#if defined(VGT_WITH_CUDA)
    use_device_of({&qkv, &lse, &grad_out, &dqkv}, op);
    const Tensor workspace = Tensor::empty(Shape{2, shape.batch, shape.heads, shape.frames, shape.frames, shape.pixels},
                                           qkv.dtype(), qkv.device());
    check(pixel_attention_backward(attention_storage_of(qkv, op), shape, qkv.raw_data(),
                                   bias.defined() ? bias.raw_data() : nullptr,
                                   rotary.defined() ? rotary.raw_data() : nullptr, lse.raw_data(),
                                   grad_out.raw_data(), dqkv.raw_data(), dbias.defined() ? dbias.raw_data() : nullptr,
                                   workspace.raw_data()),
          op);
#else
    (void)shape, (void)qkv, (void)bias, (void)rotary, (void)lse, (void)grad_out, (void)dqkv, (void)dbias;
    no_backend(op);
#endif
}

}  // namespace vgt::cuda
