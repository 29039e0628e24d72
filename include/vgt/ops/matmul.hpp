#pragma once
// Matrix products: matmul with broadcast batch dimensions, bmm, and linear
// (on the CPU through detail::gemm). A matrix operand may be row-major or a
// transposed view (column-major) without a copy, so backward passes (g·Bᵀ,
// Aᵀ·g) read the saved operands in place.

#include <algorithm>
#include <cstdint>
#include <vector>

#include <Eigen/Core>

#include "vgt/autograd/node.hpp"
#include "vgt/core/dispatch.hpp"
#include "vgt/core/parallel.hpp"
#include "vgt/cuda/tensor_ops.hpp"
#include "vgt/ops/elementwise.hpp"
#include "vgt/ops/gemm.hpp"
#include "vgt/ops/reduce.hpp"
#include "vgt/ops/strided_loop.hpp"
#include "vgt/ops/view.hpp"

namespace vgt {

namespace detail {

/// How the last two dimensions of an operand are laid out in memory.
struct MatrixLayout {
    Tensor data;             // the operand, or a contiguous copy of it
    bool column_major = false;
};

inline MatrixLayout matrix_layout(const Tensor& t) {
    const int r = t.rank();
    const std::int64_t rows = t.size(r - 2), cols = t.size(r - 1);
    const std::int64_t rs = t.strides()[r - 2], cs = t.strides()[r - 1];
    // Batch dimensions must be contiguous blocks of rows·cols elements.
    bool batch_ok = true;
    std::int64_t expected = rows * cols;
    for (int d = r - 3; d >= 0; --d) {
        if (t.size(d) != 1 && t.strides()[d] != expected) batch_ok = false;
        expected *= t.size(d);
    }
    if (batch_ok && (cs == 1 || cols == 1) && (rs == cols || rows == 1)) return {t, false};
    if (batch_ok && (rs == 1 || rows == 1) && (cs == rows || cols == 1)) return {t, true};
    return {contiguous_data(t), false};
}

/// C[M, N] = A[M, K] · B[K, N] for one contiguous matrix triple (A or B
/// column-major when flagged), C row-major. Rows of C are split over threads
/// when the product is large and the caller is not already parallel.
template <class T>
void matrix_product(const T* a, bool a_col, const T* b, bool b_col, T* c, std::int64_t m, std::int64_t k,
                    std::int64_t n) {
    const MatrixOperand<T> B{b, k, n, b_col ? k : n, b_col};
    auto run = [&](std::int64_t r0, std::int64_t r1) {
        // Rows r0..r1 of A: an offset into either order.
        const MatrixOperand<T> A{a + (a_col ? r0 : r0 * k), r1 - r0, k, a_col ? m : k, a_col};
        gemm(A, B, c + r0 * n, n);
    };
    const std::int64_t work = m * n * k;
    if (work < (1 << 18)) {
        run(0, m);
        return;
    }
    parallel_for_chunks(0, m, std::max<std::int64_t>(16, m / (4 * num_threads())),
                        [&](std::int64_t lo, std::int64_t hi) { run(lo, hi); });
}

/// Product of the last two dimensions over broadcast batch dimensions; no autograd.
inline Tensor matmul_forward(const Tensor& a, const Tensor& b, std::string_view op) {
    VGT_CHECK(a.rank() >= 2 && b.rank() >= 2, op, "expected operands of rank >= 2, found {} and {}", a.shape(),
              b.shape());
    VGT_CHECK(a.dtype() == b.dtype(), op, "expected operands of one dtype, found {} and {}", dtype_name(a.dtype()),
              dtype_name(b.dtype()));
    const std::int64_t m = a.size(-2), k = a.size(-1), n = b.size(-1);
    VGT_CHECK(b.size(-2) == k, op, "expected inner dimensions to match, found {} and {}", a.shape(), b.shape());
    Shape a_batch(a.shape().span().first(a.rank() - 2));
    Shape b_batch(b.shape().span().first(b.rank() - 2));
    Shape batch = broadcast_shapes(a_batch, b_batch, op);
    Shape a_full = batch, b_full = batch, out_shape = batch;
    a_full.push_back(m), a_full.push_back(k);
    b_full.push_back(k), b_full.push_back(n);
    out_shape.push_back(m), out_shape.push_back(n);
    const MatrixLayout la = matrix_layout(a_batch == batch ? a : contiguous_data(expand(detach(a), a_full)));
    const MatrixLayout lb = matrix_layout(b_batch == batch ? b : contiguous_data(expand(detach(b), b_full)));
    Tensor out = Tensor::empty(out_shape, a.dtype(), a.device());
    const std::int64_t batches = batch.numel();
    if (!a.device().is_cpu() || !b.device().is_cpu()) {
        cuda::gemm(la.data, la.column_major, lb.data, lb.column_major, out, batches, m, k, n, op);
        return out;
    }
    dispatch_floating(a, op, [&]<class T>() {
        const T* pa = la.data.template data<T>();
        const T* pb = lb.data.template data<T>();
        T* pc = out.data<T>();
        parallel_for(batches, [&](std::int64_t i) {
            matrix_product<T>(pa + i * m * k, la.column_major, pb + i * k * n, lb.column_major, pc + i * m * n, m, k,
                              n);
        }, 1);
    });
    return out;
}

}  // namespace detail

/// a[..., M, K] · b[..., K, N] → [..., M, N]; batch dimensions broadcast.
inline Tensor matmul(const Tensor& a, const Tensor& b) {
    Tensor out = detail::matmul_forward(a, b, "matmul");
    if (!autograd::any_requires_grad({a, b})) return out;
    Tensor a_saved = detach(a), b_saved = detach(b);
    const bool need_a = a.requires_grad(), need_b = b.requires_grad();
    return autograd::record(out, "matmul", {a, b}, [=](const Tensor& g) {
        Tensor ga, gb;
        if (need_a) ga = sum_to(detail::matmul_forward(g, transpose(b_saved, -1, -2), "matmul"), a_saved.shape());
        if (need_b) gb = sum_to(detail::matmul_forward(transpose(a_saved, -1, -2), g, "matmul"), b_saved.shape());
        return std::vector<Tensor>{ga, gb};
    });
}

/// Batched product a[B, M, K] · b[B, K, N] → [B, M, N] (no broadcasting).
inline Tensor bmm(const Tensor& a, const Tensor& b) {
    VGT_CHECK(a.rank() == 3 && b.rank() == 3 && a.size(0) == b.size(0), "bmm",
              "expected [B, M, K] and [B, K, N] with one B, found {} and {}", a.shape(), b.shape());
    return matmul(a, b);
}

namespace detail {

/// y[rows, out] = x[rows, in] · wᵀ (+ bias), all contiguous: the bias is the
/// GEMM's starting value, not a pass of its own.
template <class T>
void linear_forward(const T* x, const T* w, const T* bias, T* y, std::int64_t rows, std::int64_t in,
                    std::int64_t out) {
    const MatrixOperand<T> weight_t = MatrixOperand<T>::rows_of(w, out, in).transposed();
    auto run = [&](std::int64_t r0, std::int64_t r1) {
        if (bias)
            for (std::int64_t r = r0; r < r1; ++r) std::copy(bias, bias + out, y + r * out);
        gemm(MatrixOperand<T>::rows_of(x + r0 * in, r1 - r0, in), weight_t, y + r0 * out, out, bias != nullptr);
    };
    if (rows * in * out < (1 << 18)) return run(0, rows);
    parallel_for_chunks(0, rows, std::max<std::int64_t>(16, rows / (4 * num_threads())), run);
}

/// The gradients of linear_forward from g[rows, out]: gx = g · w, gw = gᵀ · x, gb = Σ_rows g
/// (each computed when its pointer is not null).
template <class T>
void linear_backward(const T* x, const T* w, const T* g, T* gx, T* gw, T* gb, std::int64_t rows, std::int64_t in,
                     std::int64_t out) {
    if (gx) matrix_product<T>(g, false, w, false, gx, rows, out, in);
    if (gw) matrix_product<T>(g, true, x, false, gw, out, rows, in);  // g as column-major [out, rows]
    if (gb) {
        const Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> G(g, rows, out);
        const std::int64_t slices = std::clamp<std::int64_t>(rows / 256, 1, num_threads());
        std::vector<Eigen::Matrix<T, 1, Eigen::Dynamic>> partial(static_cast<std::size_t>(slices));
        parallel_for(slices, [&](std::int64_t s) {
            const std::int64_t r0 = s * rows / slices, r1 = (s + 1) * rows / slices;
            partial[static_cast<std::size_t>(s)] = G.middleRows(r0, r1 - r0).colwise().sum();
        }, 1);
        Eigen::Map<Eigen::Matrix<T, 1, Eigen::Dynamic>> B(gb, out);
        B = partial[0];
        for (std::size_t s = 1; s < partial.size(); ++s) B += partial[s];
    }
}

}  // namespace detail

/// x[..., in] · weightᵀ + bias with weight [out, in] and bias [out] (optional),
/// as PyTorch's nn.Linear. On the CPU one op with its own backward (the bias
/// enters as the GEMM's starting value); elsewhere matmul and add.
inline Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = {}) {
    VGT_CHECK(weight.rank() == 2, "linear", "expected weight [out, in], found {}", weight.shape());
    VGT_CHECK(x.rank() >= 1 && x.size(-1) == weight.size(1), "linear",
              "expected input [..., {}] for weight {}, found {}", weight.size(1), weight.shape(), x.shape());
    VGT_CHECK(!bias.defined() || (bias.rank() == 1 && bias.size(0) == weight.size(0)), "linear",
              "expected bias [{}], found {}", weight.size(0), bias.defined() ? bias.shape() : Shape{});
    // Fold leading dimensions into rows: one large GEMM instead of many small ones.
    Shape out_shape = x.shape();
    out_shape[out_shape.rank() - 1] = weight.size(0);
    const bool cpu = x.device().is_cpu() && weight.device().is_cpu() && (!bias.defined() || bias.device().is_cpu());
    if (!cpu) {
        Tensor y = matmul(reshape(x, Shape{-1, x.size(-1)}), transpose(weight, 0, 1));
        if (bias.defined()) y = add(y, bias);
        return reshape(y, out_shape);
    }
    VGT_CHECK(weight.dtype() == x.dtype() && (!bias.defined() || bias.dtype() == x.dtype()), "linear",
              "expected input, weight and bias of one dtype, found {}, {} and {}", dtype_name(x.dtype()),
              dtype_name(weight.dtype()), bias.defined() ? dtype_name(bias.dtype()) : "none");
    const std::int64_t in = weight.size(1), out = weight.size(0), rows = x.numel() / std::max<std::int64_t>(in, 1);
    const Tensor xc = detail::contiguous_data(x), wc = detail::contiguous_data(weight);
    const Tensor bc = bias.defined() ? detail::contiguous_data(bias) : Tensor{};
    Tensor y = Tensor::empty(out_shape, x.dtype());
    dispatch_floating(x, "linear", [&]<class T>() {
        detail::linear_forward<T>(xc.data<T>(), wc.data<T>(), bc.defined() ? bc.data<T>() : nullptr, y.data<T>(),
                                  rows, in, out);
    });
    if (!autograd::any_requires_grad({x, weight, bias})) return y;

    const bool need_x = x.requires_grad(), need_w = weight.requires_grad();
    const bool need_b = bias.defined() && bias.requires_grad();
    const Tensor x_saved = need_w ? detach(xc) : Tensor{};
    const Tensor w_saved = need_x ? detach(wc) : Tensor{};
    const Shape x_shape = x.shape(), w_shape = weight.shape();
    return autograd::record(y, "linear", {x, weight, bias}, [=](const Tensor& grad) {
        const Tensor g = detail::contiguous_data(grad);
        Tensor gx = need_x ? Tensor::empty(x_shape, g.dtype()) : Tensor{};
        Tensor gw = need_w ? Tensor::empty(w_shape, g.dtype()) : Tensor{};
        Tensor gb = need_b ? Tensor::empty(Shape{out}, g.dtype()) : Tensor{};
        dispatch_floating(g, "linear", [&]<class T>() {
            detail::linear_backward<T>(need_w ? x_saved.data<T>() : nullptr, need_x ? w_saved.data<T>() : nullptr,
                                       g.data<T>(), need_x ? gx.data<T>() : nullptr,
                                       need_w ? gw.data<T>() : nullptr, need_b ? gb.data<T>() : nullptr, rows, in,
                                       out);
        });
        return std::vector<Tensor>{gx, gw, gb};
    });
}

}  // namespace vgt
