#pragma once
// Scaled dot-product attention over a batch of sequences. On the CPU it is
// one fused op (ops/fused_attention.hpp) that handles each sequence and head
// while its scores are in cache; elsewhere it is built from primitive ops
// (bmm, softmax, broadcasting arithmetic), so that it carries their autograd
// and runs wherever they run, every sequence of every head one matrix of one
// batched product.
//
// Tokens are time-major: token i belongs to frame i / tokens_per_frame, and
// the causal mask is over frames, so the tokens of one frame (joint
// space-time attention) see each other and every earlier frame.

#include <cmath>
#include <cstdint>
#include <limits>
#include <string_view>
#include <vector>

#include "vgt/core/dispatch.hpp"
#include "vgt/core/error.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/ops/device_copy.hpp"
#include "vgt/ops/elementwise.hpp"
#include "vgt/ops/fused_attention.hpp"
#include "vgt/ops/matmul.hpp"
#include "vgt/ops/softmax.hpp"
#include "vgt/ops/view.hpp"

namespace vgt::nn {

enum class AttentionMask {
    None,    // every query sees every key
    Causal,  // query i sees key j only when frame(j) ≤ frame(i)
};

/// Where a causal mask acts.
enum class MaskStyle {
    PreSoftmax,   // −∞ on masked logits: each row renormalised over the keys it sees
    PostSoftmax,  // softmax over all keys, then masked entries zeroed: rows sum to less than 1
};

/// The additive key bias [B, 1, 1, L] of a padding mask [B, L] (1 on a
/// token, 0 on padding; any dtype): 0 on a visible key, −∞ on a hidden one,
/// broadcasting over heads and queries. Every row must see a key, else its
/// softmax would be 0/0. `op` names the caller in errors.
inline Tensor key_padding_bias(const Tensor& mask, DType dtype, std::string_view op) {
    VGT_CHECK(mask.defined() && mask.rank() == 2, op, "expected a mask [batch, tokens], found {}", mask.str());
    const std::int64_t batch = mask.size(0), length = mask.size(1);
    const std::vector<double> m = to(mask, Device::cpu()).to_vector<double>();
    std::vector<double> bias(m.size());
    for (std::int64_t b = 0; b < batch; ++b) {
        bool any = false;
        for (std::int64_t i = 0; i < length; ++i) {
            const double value = m[static_cast<std::size_t>(b * length + i)];
            VGT_CHECK(value == 0.0 || value == 1.0, op, "expected mask values 0 or 1, found {} in row {}", value, b);
            any = any || value == 1.0;
            bias[static_cast<std::size_t>(b * length + i)] = value == 1.0 ? 0.0 : -std::numeric_limits<double>::infinity();
        }
        VGT_CHECK(any, op, "expected at least one visible token in every row of the mask, found none in row {}", b);
    }
    return to(to(Tensor::from_vector(bias, Shape{batch, 1, 1, length}), dtype), mask.device());
}

/// The [L, L] causal mask over frames as a constant tensor: for PreSoftmax 0
/// where a query may see a key and −∞ where not, for PostSoftmax 1 and 0.
inline Tensor causal_frame_mask(std::int64_t tokens, std::int64_t tokens_per_frame, MaskStyle style, DType dtype) {
    VGT_CHECK(tokens_per_frame >= 1 && tokens % tokens_per_frame == 0, "causal_frame_mask",
              "expected a token count that is a multiple of tokens_per_frame {}, found {}", tokens_per_frame, tokens);
    Tensor mask = Tensor::empty(Shape{tokens, tokens}, dtype);
    dispatch_floating(dtype, "causal_frame_mask", [&]<class T>() {
        const T seen = style == MaskStyle::PreSoftmax ? T(0) : T(1);
        const T hidden = style == MaskStyle::PreSoftmax ? -std::numeric_limits<T>::infinity() : T(0);
        T* m = mask.data<T>();
        for (std::int64_t i = 0; i < tokens; ++i)
            for (std::int64_t j = 0; j < tokens; ++j)
                m[i * tokens + j] = j / tokens_per_frame <= i / tokens_per_frame ? seen : hidden;
    });
    return mask;
}

namespace detail {

/// The same attention as a chain of primitive ops (bmm, softmax,
/// broadcasting arithmetic): what runs off the CPU, and the reference the
/// fused CPU op is tested against. Arguments as scaled_dot_product_attention's,
/// already checked.
inline Tensor composed_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& bias,
                                 AttentionMask mask, MaskStyle style, std::int64_t tokens_per_frame) {
    const std::int64_t n = q.size(0), heads = q.size(1), length = q.size(2), d = q.size(3);
    const double scale = 1.0 / std::sqrt(static_cast<double>(d));
    const Shape rows{n * heads, length, d};
    Tensor qs = reshape(q, rows);
    // Scale whichever of q (L·d per sequence) and the logits (L·L) is smaller.
    const bool scale_q = length > d;
    if (scale_q) qs = mul(qs, scale);
    Tensor logits = bmm(qs, transpose(reshape(k, rows), 1, 2));  // [N·heads, L, L]
    if (!scale_q) logits = mul(logits, scale);
    if (bias.defined())
        logits = reshape(add(reshape(logits, Shape{n, heads, length, length}), bias), Shape{n * heads, length, length});

    // A causal mask over a single frame hides nothing.
    const bool masked = mask == AttentionMask::Causal && length > tokens_per_frame;
    const Tensor frame_mask =
        masked ? to(causal_frame_mask(length, tokens_per_frame, style, q.dtype()), q.device()) : Tensor{};
    // Pre-softmax −∞ entries: every row keeps its own frame's keys, so a row
    // always has a finite maximum and its masked entries become exactly 0.
    if (masked && style == MaskStyle::PreSoftmax) logits = add(logits, frame_mask);
    Tensor weights = softmax(logits, -1);
    if (masked && style == MaskStyle::PostSoftmax) weights = mul(weights, frame_mask);

    return reshape(bmm(weights, reshape(v, rows)), q.shape());
}

}  // namespace detail

/// softmax(q kᵀ/√d + bias [+ mask]) · v for q, k, v [N, heads, L, d] →
/// [N, heads, L, d]. `bias` is [heads, L, L] shared by the N sequences, or
/// undefined. With a causal mask, `tokens_per_frame` groups the L tokens into
/// frames (1 when every token is a frame).
inline Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& bias = {},
                                           AttentionMask mask = AttentionMask::None,
                                           MaskStyle style = MaskStyle::PreSoftmax,
                                           std::int64_t tokens_per_frame = 1) {
    constexpr const char* op = "scaled_dot_product_attention";
    VGT_CHECK(q.rank() == 4, op, "expected q [N, heads, L, d], found {}", q.shape());
    VGT_CHECK(k.shape() == q.shape() && v.shape() == q.shape(), op,
              "expected q, k and v of one shape [N, heads, L, d], found {}, {} and {}", q.shape(), k.shape(),
              v.shape());
    VGT_CHECK(k.dtype() == q.dtype() && v.dtype() == q.dtype(), op, "expected q, k and v of one dtype, found {}, {} and {}",
              dtype_name(q.dtype()), dtype_name(k.dtype()), dtype_name(v.dtype()));
    const std::int64_t heads = q.size(1), length = q.size(2), d = q.size(3);
    VGT_CHECK(!bias.defined() || bias.shape() == Shape({heads, length, length}), op,
              "expected bias [{}, {}, {}] or none, found {}", heads, length, length,
              bias.defined() ? bias.shape() : Shape{});
    VGT_CHECK(tokens_per_frame >= 1 && length % tokens_per_frame == 0, op,
              "expected a sequence length that is a multiple of tokens_per_frame {}, found q {}", tokens_per_frame,
              q.shape());

    const double scale = 1.0 / std::sqrt(static_cast<double>(d));
    if (!q.device().is_cpu()) return detail::composed_attention(q, k, v, bias, mask, style, tokens_per_frame);
    const FusedAttentionMask fused_mask{mask == AttentionMask::Causal, style == MaskStyle::PostSoftmax,
                                        tokens_per_frame};
    return fused_attention(q, k, v, bias, scale, fused_mask);
}

}  // namespace vgt::nn
