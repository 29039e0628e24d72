#pragma once
// pixel_attention: multi-head attention over the frames of every pixel,
// computed in the video layout. Its input is the packed projection
// qkv [B, T, 3C, H, W] (per frame: q = channels 0..C−1, k = C..2C−1,
// v = 2C..3C−1, each split into heads of d = C/heads); its output is
// [B, T, C, H, W], frame t of pixel p being
//
//   Σ_j softmax_j(q_t · k_j · scale + bias[h, t, j] [+ causal mask]) v_j.
//
// In this layout a channel of a frame is a contiguous row of H·W pixels, so
// every step (scores, softmax, weighted sum, and their gradients) runs on
// whole rows of pixels at once, in SIMD registers, and the video never has
// to be regrouped into per-pixel sequences [B·H·W, T, C] and back: for
// T ≈ 8 those two copies cost more than the attention itself.

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
#include "vgt/cuda/tensor_ops.hpp"
#include "vgt/ops/elementwise.hpp"
#include "vgt/ops/fused_attention.hpp"
#include "vgt/ops/join.hpp"
#include "vgt/ops/pointwise_arrays.hpp"
#include "vgt/ops/view.hpp"

namespace vgt {

namespace detail {

struct PixelAttentionShape {
    std::int64_t batch, frames, channels, heads, pixels;
    double scale;
    FusedAttentionMask mask;  // tokens_per_frame is 1: every token is a frame
    std::int64_t dim() const { return channels / heads; }
};

/// Pixels per task: long enough rows for the SIMD loops to run at speed, short
/// enough that a block's T·T score rows (64 KiB of float32 at T = 8) stay in L2.
inline constexpr std::int64_t kPixelBlock = 256;

/// Walks the (batch, head, pixel block) tasks; f(b, h, p0, width, task).
template <class F>
void for_each_pixel_block(const PixelAttentionShape& s, F&& f) {
    const std::int64_t blocks = (s.pixels + kPixelBlock - 1) / kPixelBlock;
    parallel_for(s.batch * s.heads * blocks, [&](std::int64_t task) {
        const std::int64_t block = task % blocks, bh = task / blocks;
        const std::int64_t p0 = block * kPixelBlock;
        f(bh / s.heads, bh % s.heads, p0, std::min(kPixelBlock, s.pixels - p0), task);
    }, 1);
}

/// Row `channel` of frame t in the packed [B, T, 3C, P] projection (part 0: q, 1: k, 2: v).
template <class T>
T* packed_row(T* qkv, const PixelAttentionShape& s, std::int64_t b, std::int64_t t, std::int64_t part,
              std::int64_t h, std::int64_t dd, std::int64_t p0) {
    return qkv + ((b * s.frames + t) * 3 * s.channels + part * s.channels + h * s.dim() + dd) * s.pixels + p0;
}

/// probs [B, heads, T, T, P]: the softmax weights (before a post-softmax mask).
template <class T>
void pixel_attention_forward(const PixelAttentionShape& s, const T* qkv, const T* bias, T* probs, T* out) {
    const std::int64_t L = s.frames, d = s.dim();
    const T scale = static_cast<T>(s.scale);
    const bool pre_mask = s.mask.causal && !s.mask.post_softmax;
    for_each_pixel_block(s, [&](std::int64_t b, std::int64_t h, std::int64_t p0, std::int64_t n, std::int64_t) {
        auto prob_row = [&](std::int64_t i, std::int64_t j) {
            return ArrayMap<T>(probs + (((b * s.heads + h) * L + i) * L + j) * s.pixels + p0, n);
        };
        for (std::int64_t i = 0; i < L; ++i) {
            for (std::int64_t j = 0; j < L; ++j) {
                ArrayMap<T> score = prob_row(i, j);
                if (pre_mask && s.mask.hides(i, j)) {
                    score.setConstant(-std::numeric_limits<T>::infinity());
                    continue;
                }
                score.setZero();
                for (std::int64_t dd = 0; dd < d; ++dd)
                    score += ConstArrayMap<T>(packed_row(qkv, s, b, i, 0, h, dd, p0), n) *
                             ConstArrayMap<T>(packed_row(qkv, s, b, j, 1, h, dd, p0), n);
                score *= scale;
                if (bias) score += bias[(h * L + i) * L + j];
            }
            // Softmax over j, pixel by pixel.
            Eigen::Array<T, Eigen::Dynamic, 1> top = prob_row(i, 0), total(n);
            for (std::int64_t j = 1; j < L; ++j) top = top.max(prob_row(i, j));
            total.setZero();
            for (std::int64_t j = 0; j < L; ++j) {
                ArrayMap<T> w = prob_row(i, j);
                w = exp_flushed(w - top);
                total += w;
            }
            total = total.inverse();
            for (std::int64_t j = 0; j < L; ++j) prob_row(i, j) *= total;
            // Output channels of head h at frame i.
            for (std::int64_t dd = 0; dd < d; ++dd) {
                ArrayMap<T> o(out + ((b * L + i) * s.channels + h * d + dd) * s.pixels + p0, n);
                o.setZero();
                for (std::int64_t j = 0; j < L; ++j) {
                    if (s.mask.hides(i, j)) continue;  // a weight of 0, or hidden after the softmax
                    o += prob_row(i, j) * ConstArrayMap<T>(packed_row(qkv, s, b, j, 2, h, dd, p0), n);
                }
            }
        }
    });
}

/// dqkv [B, T, 3C, P] (every entry written) and dbias [heads, T, T] (when not null) from the
/// output gradient g [B, T, C, P] and the saved weights.
template <class T>
void pixel_attention_backward(const PixelAttentionShape& s, const T* qkv, const T* probs, const T* g, T* dqkv,
                              T* dbias) {
    const std::int64_t L = s.frames, d = s.dim();
    const T scale = static_cast<T>(s.scale);
    const bool pre_mask = s.mask.causal && !s.mask.post_softmax;
    const std::int64_t blocks = (s.pixels + kPixelBlock - 1) / kPixelBlock;
    const std::int64_t tasks = s.batch * s.heads * blocks;
    // dbias sums over batch and pixels: one partial per task, added in task order.
    std::vector<T> partial(dbias ? static_cast<std::size_t>(tasks * L * L) : 0, T(0));
    for_each_pixel_block(s, [&](std::int64_t b, std::int64_t h, std::int64_t p0, std::int64_t n, std::int64_t task) {
        auto prob_row = [&](std::int64_t i, std::int64_t j) {
            return ConstArrayMap<T>(probs + (((b * s.heads + h) * L + i) * L + j) * s.pixels + p0, n);
        };
        auto grad_row = [&](std::int64_t i, std::int64_t dd) {
            return ConstArrayMap<T>(g + ((b * L + i) * s.channels + h * d + dd) * s.pixels + p0, n);
        };
        auto input_row = [&](std::int64_t t, std::int64_t part, std::int64_t dd) {
            return ConstArrayMap<T>(packed_row(qkv, s, b, t, part, h, dd, p0), n);
        };
        auto output_row = [&](std::int64_t t, std::int64_t part, std::int64_t dd) {
            return ArrayMap<T>(packed_row(dqkv, s, b, t, part, h, dd, p0), n);
        };
        for (std::int64_t t = 0; t < L; ++t)
            for (std::int64_t part = 0; part < 3; ++part)
                for (std::int64_t dd = 0; dd < d; ++dd) output_row(t, part, dd).setZero();

        Eigen::Array<T, Eigen::Dynamic, Eigen::Dynamic> dS(n, L);  // one query frame's score gradients
        Eigen::Array<T, Eigen::Dynamic, 1> dot(n);
        for (std::int64_t i = 0; i < L; ++i) {
            dot.setZero();
            for (std::int64_t j = 0; j < L; ++j) {
                auto dp = dS.col(j);
                if (s.mask.hides(i, j)) {  // no path from key j to query i's output
                    dp.setZero();
                    continue;
                }
                // ∂/∂weights[i, j] = Σ_dd g[i, dd] v[j, dd]; and dv[j] += weights[i, j] g[i].
                dp.setZero();
                for (std::int64_t dd = 0; dd < d; ++dd) {
                    const ConstArrayMap<T> gi = grad_row(i, dd);
                    dp += gi * input_row(j, 2, dd);
                    output_row(j, 2, dd) += prob_row(i, j) * gi;
                }
                dot += dp * prob_row(i, j);
            }
            // Through the softmax: dS = P ∘ (dP − Σ_j dP ∘ P), then dq[i] and dk[j].
            for (std::int64_t j = 0; j < L; ++j) {
                // A pre-softmax mask's weights are exactly 0, and so are their score gradients.
                if (pre_mask && s.mask.hides(i, j)) continue;
                auto ds = dS.col(j);
                ds = prob_row(i, j) * (ds - dot);
                if (dbias) partial[static_cast<std::size_t>((task * L + i) * L + j)] = ds.sum();
                ds *= scale;
                for (std::int64_t dd = 0; dd < d; ++dd) {
                    output_row(i, 0, dd) += ds * input_row(j, 1, dd);
                    output_row(j, 1, dd) += ds * input_row(i, 0, dd);
                }
            }
        }
    });
    if (!dbias) return;
    // Tasks run (batch, head, block) with the head in the middle; add per head in task order.
    std::fill(dbias, dbias + s.heads * L * L, T(0));
    for (std::int64_t task = 0; task < tasks; ++task) {
        const std::int64_t h = (task / blocks) % s.heads;
        const T* sums = partial.data() + task * L * L;
        for (std::int64_t e = 0; e < L * L; ++e) dbias[h * L * L + e] += sums[e];
    }
}

}  // namespace detail

/// Rotary position tables for pixel_attention (RoPE, XPos): cos and sin
/// [T, d/2] that turn channel pairs (2i, 2i+1) of the queries of frame t,
/// (a, b) → (a·cos − b·sin, a·sin + b·cos), and likewise for the keys. The
/// tables are constants: no gradient flows into them.
struct PixelRotary {
    Tensor cos_q, sin_q, cos_k, sin_k;
    bool defined() const { return cos_q.defined(); }
};

namespace detail {

/// The packed projection with its queries and keys turned by the rotary
/// tables, through composed ops: the CPU's route (the CUDA kernels turn q
/// and k as they load them).
inline Tensor rotate_packed(const Tensor& qkv, std::int64_t heads, const PixelRotary& rotary) {
    const Shape shape = qkv.shape();
    const std::int64_t channels = shape[2] / 3, pairs = channels / heads / 2;
    const Shape table_shape{1, shape[1], 1, pairs, 1};
    auto turn = [&](std::int64_t part, const Tensor& cos, const Tensor& sin) {
        const Tensor rows = reshape(slice(qkv, 2, part * channels, (part + 1) * channels),
                                    Shape{shape[0], shape[1], heads, pairs, 2, shape[3] * shape[4]});
        const Tensor even = select(rows, 4, 0), odd = select(rows, 4, 1);
        const Tensor c = reshape(detach(cos), table_shape), s = reshape(detach(sin), table_shape);
        const Tensor turned = stack({sub(mul(even, c), mul(odd, s)), add(mul(even, s), mul(odd, c))}, 4);
        return reshape(turned, Shape{shape[0], shape[1], channels, shape[3], shape[4]});
    };
    return concat({turn(0, rotary.cos_q, rotary.sin_q), turn(1, rotary.cos_k, rotary.sin_k),
                   slice(qkv, 2, 2 * channels, 3 * channels)},
                  2);
}

/// The CUDA route: one fused kernel forward, three backward (ops: vgt/cuda/pixel_attention.cuh).
inline Tensor pixel_attention_cuda(const Tensor& qkv, const Tensor& bias, const PixelRotary& rotary,
                                   const cuda::PixelAttentionShape& s) {
    constexpr const char* op = "pixel_attention";
    const Tensor packed = contiguous_data(qkv);
    const Tensor bc = bias.defined() ? contiguous_data(bias) : Tensor{};
    const Tensor table = rotary.defined() ? contiguous_data(concat({detach(rotary.cos_q), detach(rotary.sin_q),
                                                                    detach(rotary.cos_k), detach(rotary.sin_k)},
                                                                   0))
                                          : Tensor{};
    Tensor out = Tensor::empty(Shape{s.batch, s.frames, s.channels, qkv.size(3), qkv.size(4)}, qkv.dtype(),
                               qkv.device());
    Tensor lse = Tensor::empty(Shape{s.batch, s.heads, s.frames, s.pixels}, qkv.dtype(), qkv.device());
    cuda::pixel_attention(s, packed, bc, table, out, lse, op);
    if (!autograd::any_requires_grad({qkv, bias})) return out;

    const bool need_bias = bias.defined() && bias.requires_grad();
    const Tensor saved = detach(packed);
    const Tensor saved_bias = bc.defined() ? detach(bc) : Tensor{};
    const Shape qkv_shape = qkv.shape();
    return autograd::record(out, op, {qkv, bias}, [=](const Tensor& grad) {
        const Tensor g = detail::contiguous_data(grad);
        Tensor dqkv = Tensor::empty(qkv_shape, g.dtype(), g.device());
        Tensor dbias = need_bias ? Tensor::empty(Shape{s.heads, s.frames, s.frames}, g.dtype(), g.device()) : Tensor{};
        cuda::pixel_attention_gradient(s, saved, saved_bias, table, lse, g, dqkv, dbias, op);
        return std::vector<Tensor>{dqkv, dbias};
    });
}

}  // namespace detail

/// Attention over the frames of every pixel of the packed projection
/// qkv [B, T, 3C, H, W] → [B, T, C, H, W], `heads` heads of C/heads
/// channels, logits scaled by 1/√(C/heads); `bias` [heads, T, T] or
/// undefined; `mask` as fused_attention's (tokens_per_frame 1); `rotary`
/// turns queries and keys before their product (undefined: not at all).
/// CPU, and CUDA for up to 64 frames.
inline Tensor pixel_attention(const Tensor& qkv, std::int64_t heads, const Tensor& bias = {},
                              const FusedAttentionMask& mask = {}, const PixelRotary& rotary = {}) {
    constexpr const char* op = "pixel_attention";
    VGT_CHECK(qkv.rank() == 5 && qkv.size(2) % 3 == 0, op,
              "expected a packed projection [B, T, 3C, H, W], found shape {}", qkv.shape());
    const std::int64_t channels = qkv.size(2) / 3;
    VGT_CHECK(heads >= 1 && channels % heads == 0, op, "expected a head count dividing {} channels, found {}",
              channels, heads);
    VGT_CHECK(mask.tokens_per_frame == 1, op, "expected one token per frame, found tokens_per_frame {}",
              mask.tokens_per_frame);
    const std::int64_t frames = qkv.size(1);
    VGT_CHECK(!bias.defined() || (bias.shape() == Shape({heads, frames, frames}) && bias.dtype() == qkv.dtype() &&
                                  bias.device() == qkv.device()),
              op, "expected a {} bias [{}, {}, {}] on {} or none, found {}", dtype_name(qkv.dtype()), heads, frames,
              frames, qkv.device().str(),
              bias.defined() ? bias.str() + " on " + bias.device().str() : std::string("none"));
    if (rotary.defined()) {
        const std::int64_t d = channels / heads;
        VGT_CHECK(d % 2 == 0, op, "expected heads of an even size for rotary tables, found {}", d);
        for (const Tensor* table : {&rotary.cos_q, &rotary.sin_q, &rotary.cos_k, &rotary.sin_k})
            VGT_CHECK(table->defined() && table->shape() == Shape({frames, d / 2}) &&
                          table->dtype() == qkv.dtype() && table->device() == qkv.device(),
                      op, "expected four {} rotary tables [{}, {}] on {}, found {}", dtype_name(qkv.dtype()), frames,
                      d / 2, qkv.device().str(),
                      table->defined() ? table->str() + " on " + table->device().str() : std::string("none"));
    }
    const detail::PixelAttentionShape s{qkv.size(0), frames, channels, heads, qkv.size(3) * qkv.size(4),
                                        1.0 / std::sqrt(static_cast<double>(channels / heads)), mask};
    if (qkv.device().is_cuda()) {
        VGT_CHECK(frames <= cuda::kPixelAttentionMaxFrames, op, "expected at most {} frames on CUDA, found {}",
                  cuda::kPixelAttentionMaxFrames, frames);
        VGT_CHECK(s.batch * heads <= 65535, op, "expected batch × heads ≤ 65535 on CUDA, found {} × {}", s.batch,
                  heads);
        VGT_CHECK(frames * 3 * channels * s.pixels <= cuda::kPixelAttentionMaxVideoElements, op,
                  "expected at most {} elements per video of the projection on CUDA, found {} (shape {})",
                  cuda::kPixelAttentionMaxVideoElements, frames * 3 * channels * s.pixels, qkv.shape());
        return detail::pixel_attention_cuda(
            qkv, bias, rotary,
            cuda::PixelAttentionShape{s.batch, frames, channels, heads, s.pixels, s.scale, mask.causal,
                                      mask.post_softmax});
    }
    VGT_CHECK(qkv.device().is_cpu(), op, "expected a CPU or CUDA tensor, found {}", qkv.device().str());
    if (rotary.defined()) return pixel_attention(detail::rotate_packed(qkv, heads, rotary), heads, bias, mask);

    const Tensor packed = detail::contiguous_data(qkv);
    const Tensor bc = bias.defined() ? detail::contiguous_data(bias) : Tensor{};
    Tensor probs = Tensor::empty(Shape{s.batch, heads, frames, frames, s.pixels}, qkv.dtype());
    Tensor out = Tensor::empty(Shape{s.batch, frames, channels, qkv.size(3), qkv.size(4)}, qkv.dtype());
    dispatch_floating(qkv, op, [&]<class T>() {
        detail::pixel_attention_forward<T>(s, packed.data<T>(), bc.defined() ? bc.data<T>() : nullptr,
                                           probs.data<T>(), out.data<T>());
    });
    if (!autograd::any_requires_grad({qkv, bias})) return out;

    const bool need_bias = bias.defined() && bias.requires_grad();
    const Tensor saved = detach(packed);
    const Shape qkv_shape = qkv.shape();
    return autograd::record(out, op, {qkv, bias}, [=](const Tensor& grad) {
        const Tensor g = detail::contiguous_data(grad);
        Tensor dqkv = Tensor::empty(qkv_shape, g.dtype());
        Tensor dbias = need_bias ? Tensor::empty(Shape{s.heads, s.frames, s.frames}, g.dtype()) : Tensor{};
        dispatch_floating(g, op, [&]<class T>() {
            detail::pixel_attention_backward<T>(s, saved.data<T>(), probs.data<T>(), g.data<T>(), dqkv.data<T>(),
                                                need_bias ? dbias.data<T>() : nullptr);
        });
        return std::vector<Tensor>{dqkv, dbias};
    });
}

}  // namespace vgt
