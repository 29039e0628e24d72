#pragma once
// Matrix products through Eigen: matmul with broadcast batch dimensions,
// bmm, and linear. A matrix operand may be row-major or a transposed view
// (column-major) without a copy, so backward passes (g·Bᵀ, Aᵀ·g) read the
// saved operands in place.

#include <algorithm>
#include <cstdint>
#include <vector>

#include <Eigen/Core>

#include "vgt/autograd/node.hpp"
#include "vgt/core/dispatch.hpp"
#include "vgt/core/parallel.hpp"
#include "vgt/ops/elementwise.hpp"
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

template <class T>
using RowMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using ColMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;

/// C[M, N] = A[M, K] · B[K, N] for one matrix triple, C row-major and
/// contiguous. Rows of C are split over threads when the product is large
/// and the caller is not already parallel.
template <class T>
void gemm(const T* a, bool a_col, const T* b, bool b_col, T* c, std::int64_t m, std::int64_t k, std::int64_t n) {
    auto run = [&](std::int64_t r0, std::int64_t r1) {
        const std::int64_t rows = r1 - r0;
        Eigen::Map<RowMatrix<T>> C(c + r0 * n, rows, n);
        auto with_b = [&](const auto& A) {
            if (b_col) C.noalias() = A * Eigen::Map<const ColMatrix<T>>(b, k, n);
            else C.noalias() = A * Eigen::Map<const RowMatrix<T>>(b, k, n);
        };
        if (a_col) {
            // Column-major A: rows r0..r1 are a block of the full map.
            Eigen::Map<const ColMatrix<T>> A(a, m, k);
            with_b(A.middleRows(r0, rows));
        } else {
            with_b(Eigen::Map<const RowMatrix<T>>(a + r0 * k, rows, k));
        }
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
    dispatch_floating(a, op, [&]<class T>() {
        const T* pa = la.data.template data<T>();
        const T* pb = lb.data.template data<T>();
        T* pc = out.data<T>();
        parallel_for(batches, [&](std::int64_t i) {
            gemm<T>(pa + i * m * k, la.column_major, pb + i * k * n, lb.column_major, pc + i * m * n, m, k, n);
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

/// x[..., in] · weightᵀ + bias with weight [out, in] and bias [out] (optional),
/// as PyTorch's nn.Linear.
inline Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = {}) {
    VGT_CHECK(weight.rank() == 2, "linear", "expected weight [out, in], found {}", weight.shape());
    VGT_CHECK(x.rank() >= 1 && x.size(-1) == weight.size(1), "linear",
              "expected input [..., {}] for weight {}, found {}", weight.size(1), weight.shape(), x.shape());
    VGT_CHECK(!bias.defined() || (bias.rank() == 1 && bias.size(0) == weight.size(0)), "linear",
              "expected bias [{}], found {}", weight.size(0), bias.defined() ? bias.shape() : Shape{});
    // Fold leading dimensions into rows: one large GEMM instead of many small ones.
    Shape out_shape = x.shape();
    out_shape[out_shape.rank() - 1] = weight.size(0);
    Tensor rows = reshape(x, Shape{-1, x.size(-1)});
    Tensor y = matmul(rows, transpose(weight, 0, 1));
    if (bias.defined()) y = add(y, bias);
    return reshape(y, out_shape);
}

}  // namespace vgt
