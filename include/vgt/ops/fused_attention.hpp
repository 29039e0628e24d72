#pragma once
// softmax(q kᵀ · scale + bias [+ causal mask]) · v computed one sequence and
// head at a time on the CPU, forward and backward, instead of as a chain of
// batched products, scalings, additions and a softmax over whole tensors.
// Per-pixel temporal attention is thousands of sequences of T ≈ 8 tokens:
// as separate ops every step writes and rereads an [N·heads, T, T] tensor and
// every product is a tiny GEMM call; fused, a sequence's scores stay in
// cache from the logits to the output. q, k and v may be strided views (the
// last dimension contiguous), such as the heads of one packed qkv
// projection, so no copy is needed to split them.
//
// The result is [N, heads, L, d] as a view of an [N, L, heads, d] buffer:
// merging the heads back into tokens is then free.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include <Eigen/Core>

#include "vgt/autograd/node.hpp"
#include "vgt/core/dispatch.hpp"
#include "vgt/core/error.hpp"
#include "vgt/core/parallel.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/ops/gemm.hpp"
#include "vgt/ops/pointwise_arrays.hpp"
#include "vgt/ops/view.hpp"

namespace vgt {

/// The causal mask of fused_attention: query token i sees key token j only
/// when j / tokens_per_frame ≤ i / tokens_per_frame.
struct FusedAttentionMask {
    bool causal = false;
    bool post_softmax = false;  // zero masked weights after the softmax instead of −∞ before it
    std::int64_t tokens_per_frame = 1;

    bool hides(std::int64_t query, std::int64_t key) const {
        return causal && key / tokens_per_frame > query / tokens_per_frame;
    }
};

namespace detail {

template <class T>
using AttentionRows = Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>, 0,
                                 Eigen::OuterStride<>>;
template <class T>
using ConstAttentionRows = Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>, 0,
                                      Eigen::OuterStride<>>;

/// Where one (sequence, head) of a [N, heads, L, d] operand starts, and its row stride.
struct HeadLayout {
    std::int64_t n_stride, head_stride, row_stride;
    std::int64_t at(std::int64_t n, std::int64_t h) const { return n * n_stride + h * head_stride; }
    static HeadLayout of(const Tensor& t) { return {t.strides()[0], t.strides()[1], t.strides()[2]}; }
};

struct FusedAttentionShape {
    std::int64_t n, heads, length, dim;
    double scale;
    FusedAttentionMask mask;
};

/// Zeroes the entries of an [L, L] weight matrix that a causal mask hides.
template <class Matrix>
void zero_hidden(Matrix& m, const FusedAttentionMask& mask) {
    for (Eigen::Index i = 0; i < m.rows(); ++i)
        for (Eigen::Index j = 0; j < m.cols(); ++j)
            if (mask.hides(i, j)) m(i, j) = 0;
}

/// Forward of every (sequence, head): softmax weights into `probs` [N, heads, L, L] (before a
/// post-softmax mask), the output into `out` [N, L, heads, d].
template <class T>
void fused_attention_forward(const FusedAttentionShape& s, const T* q, HeadLayout lq, const T* k, HeadLayout lk,
                             const T* v, HeadLayout lv, const T* bias, T* probs, T* out) {
    const std::int64_t L = s.length, d = s.dim;
    const T scale = static_cast<T>(s.scale);
    parallel_for(s.n * s.heads, [&](std::int64_t task) {
        const std::int64_t n = task / s.heads, h = task % s.heads;
        const auto Q = MatrixOperand<T>::rows_of(q + lq.at(n, h), L, d, lq.row_stride);
        const auto K = MatrixOperand<T>::rows_of(k + lk.at(n, h), L, d, lk.row_stride);
        const auto V = MatrixOperand<T>::rows_of(v + lv.at(n, h), L, d, lv.row_stride);
        T* const p = probs + task * L * L;
        gemm(Q, K.transposed(), p, L);
        AttentionRows<T> P(p, L, L, Eigen::OuterStride<>(L));
        P *= scale;
        if (bias) P += ConstAttentionRows<T>(bias + h * L * L, L, L, Eigen::OuterStride<>(L));
        for (std::int64_t i = 0; i < L; ++i) {
            auto row = P.row(i);
            if (s.mask.causal && !s.mask.post_softmax)
                for (std::int64_t j = 0; j < L; ++j)
                    if (s.mask.hides(i, j)) row(j) = -std::numeric_limits<T>::infinity();
            row.array() = exp_flushed(row.array() - row.maxCoeff());
            row *= T(1) / row.sum();
        }
        T* const o = out + (n * L * s.heads + h) * d;
        if (s.mask.causal && s.mask.post_softmax) {
            Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> W = P;
            zero_hidden(W, s.mask);
            gemm(MatrixOperand<T>::rows_of(W.data(), L, L), V, o, s.heads * d);
        } else {
            gemm(MatrixOperand<T>::rows_of(p, L, L), V, o, s.heads * d);
        }
    }, 1);
}

/// Backward of every (sequence, head) from the saved softmax weights: dq, dk, dv contiguous
/// [N, heads, L, d]; dbias [heads, L, L] (summed over the sequences) when not null.
template <class T>
void fused_attention_backward(const FusedAttentionShape& s, const T* q, HeadLayout lq, const T* k, HeadLayout lk,
                              const T* v, HeadLayout lv, const T* probs, const T* grad, HeadLayout lg, T* dq, T* dk,
                              T* dv, T* dbias) {
    using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
    const std::int64_t L = s.length, d = s.dim, tasks = s.n * s.heads;
    const T scale = static_cast<T>(s.scale);
    // The bias gradient sums over sequences: each run of tasks sums into its own copy, added in order.
    const std::int64_t runs = dbias ? std::clamp<std::int64_t>(tasks, 1, num_threads()) : 1;
    std::vector<Matrix> bias_sums(dbias ? static_cast<std::size_t>(runs) : 0);
    parallel_for(runs, [&](std::int64_t run) {
        Matrix dP(L, L), W(L, L);
        Matrix* bias_sum = dbias ? &bias_sums[static_cast<std::size_t>(run)] : nullptr;
        if (bias_sum) bias_sum->setZero(s.heads * L, L);
        for (std::int64_t task = run * tasks / runs; task < (run + 1) * tasks / runs; ++task) {
            const std::int64_t n = task / s.heads, h = task % s.heads;
            const auto Q = MatrixOperand<T>::rows_of(q + lq.at(n, h), L, d, lq.row_stride);
            const auto K = MatrixOperand<T>::rows_of(k + lk.at(n, h), L, d, lk.row_stride);
            const auto V = MatrixOperand<T>::rows_of(v + lv.at(n, h), L, d, lv.row_stride);
            const auto G = MatrixOperand<T>::rows_of(grad + lg.at(n, h), L, d, lg.row_stride);
            const ConstAttentionRows<T> P(probs + task * L * L, L, L, Eigen::OuterStride<>(L));
            const bool post_mask = s.mask.causal && s.mask.post_softmax;
            W = P;
            if (post_mask) zero_hidden(W, s.mask);
            gemm(MatrixOperand<T>::rows_of(W.data(), L, L).transposed(), G, dv + task * L * d, d);
            gemm(G, V.transposed(), dP.data(), L);  // ∂/∂(weights)
            if (post_mask) zero_hidden(dP, s.mask);
            // Through the softmax: dS = P ∘ (dP − rowsum(dP ∘ P)).
            for (std::int64_t i = 0; i < L; ++i) {
                const T dot = dP.row(i).dot(P.row(i));
                dP.row(i).array() = P.row(i).array() * (dP.row(i).array() - dot);
            }
            if (bias_sum) bias_sum->middleRows(h * L, L) += dP;
            dP *= scale;  // the logits' gradient
            const auto dS = MatrixOperand<T>::rows_of(dP.data(), L, L);
            gemm(dS, K, dq + task * L * d, d);
            gemm(dS.transposed(), Q, dk + task * L * d, d);
        }
    }, 1);
    if (!dbias) return;
    AttentionRows<T> total(dbias, s.heads * L, L, Eigen::OuterStride<>(L));
    total.setZero();
    for (const Matrix& partial : bias_sums) total += partial;
}

}  // namespace detail

/// softmax(q kᵀ · scale + bias [+ mask]) · v for q, k, v [N, heads, L, d] →
/// [N, heads, L, d] (a view of an [N, L, heads, d] buffer). `bias` is
/// [heads, L, L] shared by the N sequences, or undefined. CPU only; any
/// strides with the last dimension contiguous.
inline Tensor fused_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& bias, double scale,
                              const FusedAttentionMask& mask = {}) {
    constexpr const char* op = "fused_attention";
    VGT_CHECK(q.rank() == 4 && k.shape() == q.shape() && v.shape() == q.shape(), op,
              "expected q, k and v of one shape [N, heads, L, d], found {}, {} and {}", q.shape(), k.shape(),
              v.shape());
    VGT_CHECK(q.device().is_cpu() && k.device().is_cpu() && v.device().is_cpu(), op,
              "expected CPU tensors, found q on {}", q.device().str());
    VGT_CHECK(k.dtype() == q.dtype() && v.dtype() == q.dtype(), op,
              "expected q, k and v of one dtype, found {}, {} and {}", dtype_name(q.dtype()), dtype_name(k.dtype()),
              dtype_name(v.dtype()));
    const detail::FusedAttentionShape s{q.size(0), q.size(1), q.size(2), q.size(3), scale, mask};
    VGT_CHECK(!bias.defined() || (bias.shape() == Shape({s.heads, s.length, s.length}) && bias.dtype() == q.dtype()),
              op, "expected a {} bias [{}, {}, {}] or none, found {}", dtype_name(q.dtype()), s.heads, s.length,
              s.length, bias.defined() ? bias.str() : std::string("none"));
    VGT_CHECK(mask.tokens_per_frame >= 1 && s.length % mask.tokens_per_frame == 0, op,
              "expected a sequence length that is a multiple of tokens_per_frame {}, found q {}",
              mask.tokens_per_frame, q.shape());
    auto rows_contiguous = [](const Tensor& t) { return t.size(3) <= 1 || t.strides()[3] == 1 ? t : contiguous(t); };
    const Tensor qd = detach(rows_contiguous(q)), kd = detach(rows_contiguous(k)), vd = detach(rows_contiguous(v));
    const Tensor bc = bias.defined() ? detail::contiguous_data(bias) : Tensor{};

    Tensor probs = Tensor::empty(Shape{s.n, s.heads, s.length, s.length}, q.dtype());
    Tensor out = Tensor::empty(Shape{s.n, s.length, s.heads, s.dim}, q.dtype());
    dispatch_floating(q, op, [&]<class T>() {
        detail::fused_attention_forward<T>(s, qd.data<T>(), detail::HeadLayout::of(qd), kd.data<T>(),
                                           detail::HeadLayout::of(kd), vd.data<T>(), detail::HeadLayout::of(vd),
                                           bc.defined() ? bc.data<T>() : nullptr, probs.data<T>(), out.data<T>());
    });
    Tensor result = permute(out, {0, 2, 1, 3});
    if (!autograd::any_requires_grad({q, k, v, bias})) return result;

    const bool need_bias = bias.defined() && bias.requires_grad();
    return autograd::record(result, op, {q, k, v, bias}, [=](const Tensor& g) {
        const Tensor gr = g.size(3) <= 1 || g.strides()[3] == 1 ? g : contiguous(g);
        const Shape shape{s.n, s.heads, s.length, s.dim};
        Tensor dq = Tensor::empty(shape, g.dtype()), dk = Tensor::empty(shape, g.dtype()),
               dv = Tensor::empty(shape, g.dtype());
        Tensor dbias = need_bias ? Tensor::empty(Shape{s.heads, s.length, s.length}, g.dtype()) : Tensor{};
        dispatch_floating(g, op, [&]<class T>() {
            detail::fused_attention_backward<T>(
                s, qd.data<T>(), detail::HeadLayout::of(qd), kd.data<T>(), detail::HeadLayout::of(kd), vd.data<T>(),
                detail::HeadLayout::of(vd), probs.data<T>(), gr.data<T>(), detail::HeadLayout::of(gr), dq.data<T>(),
                dk.data<T>(), dv.data<T>(), need_bias ? dbias.data<T>() : nullptr);
        });
        return std::vector<Tensor>{dq, dk, dv, dbias};
    });
}

}  // namespace vgt
