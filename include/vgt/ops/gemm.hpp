#pragma once
// The CPU's one matrix product: C = A·B (or C += A·B) on strided float or double
// matrices, each operand row-major or column-major (a transposed view read
// in place). Every product of the CPU kernels (matmul, linear, convolution,
// temporal convolution, fused attention) goes through it, so a translation
// unit instantiates Eigen's GEMM once per scalar type and operand order,
// instead of once per expression shape at each call site: in a header-only
// library that instantiation is paid by every file that includes the ops.

#include <cstdint>

#include <Eigen/Core>

namespace vgt::detail {

/// A strided [rows, cols] operand of gemm: element (i, j) at data[i·stride + j]
/// when row-major, at data[j·stride + i] when column-major.
template <class T>
struct MatrixOperand {
    const T* data;
    std::int64_t rows, cols, stride;
    bool column_major = false;

    /// A row-major operand; `stride` defaults to a contiguous one.
    static MatrixOperand rows_of(const T* data, std::int64_t rows, std::int64_t cols, std::int64_t stride = -1) {
        return {data, rows, cols, stride < 0 ? cols : stride, false};
    }
    /// The transpose, read in place: the same memory in the other order.
    MatrixOperand transposed() const { return {data, cols, rows, stride, !column_major}; }
};

/// C[m, n] = A[m, k]·B[k, n], or C += A·B when `accumulate`; C row-major
/// with row stride `ldc`. Runs on the calling thread: callers split the work.
template <class T>
void gemm(const MatrixOperand<T>& a, const MatrixOperand<T>& b, T* c, std::int64_t ldc, bool accumulate = false) {
    using Stride = Eigen::OuterStride<>;
    using RowMap = Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>, 0, Stride>;
    using ColMap = Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>, 0, Stride>;
    Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>, 0, Stride> C(c, a.rows, b.cols,
                                                                                               Stride(ldc));
    // One product expression (an accumulating one) per operand order:
    // overwriting is accumulating into zeros. A scale factor is the caller's
    // pass: as α·A·B it would double the instantiations.
    if (!accumulate) C.setZero();
    auto times_b = [&](const auto& A) {
        if (b.column_major) C.noalias() += A * ColMap(b.data, b.rows, b.cols, Stride(b.stride));
        else C.noalias() += A * RowMap(b.data, b.rows, b.cols, Stride(b.stride));
    };
    if (a.column_major) times_b(ColMap(a.data, a.rows, a.cols, Stride(a.stride)));
    else times_b(RowMap(a.data, a.rows, a.cols, Stride(a.stride)));
}

}  // namespace vgt::detail
