#pragma once
// What the position policies share: the checks of a PositionContext against
// the tensors an attention mixer hands over, constant tables placed beside
// those tensors, a per-frame table added to every token of its frame, and the
// rotation of (even, odd) pairs that RoPE and XPos apply to queries and keys.
//
// Tables of positions are computed on the CPU in double (they are tiny:
// frames × channels) and converted once to the input's dtype and device; the
// ops that touch h, q and k are vgt primitives, so they carry the gradient
// and run wherever the primitives run.

#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "vgt/core/error.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/ops/device_copy.hpp"
#include "vgt/ops/elementwise.hpp"
#include "vgt/ops/join.hpp"
#include "vgt/ops/reduce.hpp"
#include "vgt/ops/view.hpp"
#include "vgt/position/position_policy.hpp"

namespace vgt::position {

/// The frame of token `token` (tokens are time-major).
inline std::int64_t frame_of_token(std::int64_t token, const PositionContext& ctx) {
    return token / ctx.tokens_per_frame;
}

}  // namespace vgt::position

namespace vgt::detail {

inline void check_position_context(const position::PositionContext& ctx, std::string_view op) {
    VGT_CHECK(ctx.frames >= 1 && ctx.tokens_per_frame >= 1, op,
              "expected a context with at least one frame and one token per frame, found frames = {}, "
              "tokens_per_frame = {}",
              ctx.frames, ctx.tokens_per_frame);
}

/// h must be [N, L, C] with L = ctx.tokens() and C = channels.
inline void check_embed_input(const Tensor& h, const position::PositionContext& ctx, std::int64_t channels,
                              std::string_view op) {
    check_position_context(ctx, op);
    VGT_CHECK(h.rank() == 3 && h.size(1) == ctx.tokens() && h.size(2) == channels, op,
              "expected h of shape [N, {}, {}] ({} frames × {} tokens per frame, {} channels), found {}",
              ctx.tokens(), channels, ctx.frames, ctx.tokens_per_frame, channels, h.shape());
}

/// q and k must both be [N, heads, L, d] with L = ctx.tokens() and d even.
inline void check_rotate_input(const Tensor& q, const Tensor& k, const position::PositionContext& ctx,
                               std::string_view op) {
    check_position_context(ctx, op);
    VGT_CHECK(q.rank() == 4 && q.size(2) == ctx.tokens(), op,
              "expected q of shape [N, heads, {}, d] ({} frames × {} tokens per frame), found {}", ctx.tokens(),
              ctx.frames, ctx.tokens_per_frame, q.shape());
    VGT_CHECK(q.size(3) % 2 == 0, op, "expected an even head size d (it rotates pairs of channels), found q of shape {}",
              q.shape());
    VGT_CHECK(k.shape() == q.shape(), op, "expected k of the shape of q, {}, found {}", q.shape(), k.shape());
}

/// A constant (no gradient) tensor of `shape` from double `values`, in
/// `dtype` on `device`.
inline Tensor constant_table(const std::vector<double>& values, const Shape& shape, DType dtype, Device device) {
    return to(to(Tensor::from_vector(values, shape), dtype), device);
}

/// h [N, L, C] plus table [T, C], row t added to every token of frame t.
inline Tensor add_per_frame(const Tensor& h, const Tensor& table, const position::PositionContext& ctx) {
    const std::int64_t batch = h.size(0);
    const std::int64_t channels = h.size(2);
    const Tensor by_frame = reshape(h, Shape{batch, ctx.frames, ctx.tokens_per_frame, channels});
    const Tensor sum = add(by_frame, reshape(table, Shape{ctx.frames, 1, channels}));
    return reshape(sum, h.shape());
}

/// A per-frame bias [heads, T, T] as the per-token bias [heads, L, L] that
/// attention adds to its logits: every token of frame t gets row/column t.
inline Tensor expand_frame_bias(const Tensor& bias, const position::PositionContext& ctx) {
    const std::int64_t heads = bias.size(0);
    const std::int64_t frames = ctx.frames;
    const std::int64_t per_frame = ctx.tokens_per_frame;
    if (per_frame == 1) return contiguous(bias);
    const Tensor blocks = expand(reshape(bias, Shape{heads, frames, 1, frames, 1}),
                                 Shape{heads, frames, per_frame, frames, per_frame});
    return reshape(blocks, Shape{heads, frames * per_frame, frames * per_frame});
}

/// Rotates the pairs (x[2i], x[2i+1]) of x [N, heads, L, d] in the plane:
/// (a, b) → (a·cos − b·sin, a·sin + b·cos), cos and sin [L, d/2] per token and
/// pair. cos² + sin² need not be 1: XPos folds its scale into both.
inline Tensor rotate_pairs(const Tensor& x, const Tensor& cos, const Tensor& sin) {
    const Shape shape = x.shape();
    const Tensor pairs = reshape(x, Shape{shape[0], shape[1], shape[2], shape[3] / 2, 2});
    const Tensor even = select(pairs, 4, 0);
    const Tensor odd = select(pairs, 4, 1);
    const Tensor rotated_even = sub(mul(even, cos), mul(odd, sin));
    const Tensor rotated_odd = add(mul(even, sin), mul(odd, cos));
    return reshape(stack({rotated_even, rotated_odd}, 4), shape);
}

}  // namespace vgt::detail
