#pragma once
// RelativeBias: T5's learned relative-position bias (Raffel et al. 2020),
// over frames. The relative position r = key frame − query frame falls into
// one of 32 buckets: exact for small |r|, logarithmically wider up to a
// distance of 32, and every farther r shares the last bucket. Without
// ctx.causal the buckets are bidirectional (16 per sign: 0–15 for keys at
// or before the query, 16–31 after it); with ctx.causal all 32 measure the
// distance into the past (future keys map to bucket 0 and are masked by the
// caller anyway). Each bucket holds a learned bias per head, added to the
// logits.
//
// Parameter: relative_attention_bias [32, heads], initialised to zero, so a
// fresh policy adds nothing and attention starts position-free.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vgt/core/error.hpp"
#include "vgt/core/random.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/nn/init.hpp"
#include "vgt/nn/parameters.hpp"
#include "vgt/ops/device_copy.hpp"
#include "vgt/ops/embedding.hpp"
#include "vgt/ops/view.hpp"
#include "vgt/position/frame_positions.hpp"
#include "vgt/position/position_policy.hpp"
#include "vgt/temporal/options.hpp"

namespace vgt::position {

/// T5's bucket of a relative position (key − query) among `buckets` buckets:
/// half of them (per sign when bidirectional) exact, the rest logarithmic up
/// to `max_distance`, farther positions in the last bucket.
inline std::int64_t relative_position_bucket(std::int64_t relative, bool bidirectional, std::int64_t buckets = 32,
                                             std::int64_t max_distance = 32) {
    std::int64_t first = 0;
    std::int64_t distance = 0;
    if (bidirectional) {
        buckets /= 2;
        if (relative > 0) first = buckets;
        distance = relative < 0 ? -relative : relative;
    } else {
        distance = std::max<std::int64_t>(-relative, 0);
    }
    const std::int64_t exact = buckets / 2;
    if (distance < exact) return first + distance;
    const double logarithmic = std::log(static_cast<double>(distance) / static_cast<double>(exact)) /
                               std::log(static_cast<double>(max_distance) / static_cast<double>(exact)) *
                               static_cast<double>(buckets - exact);
    return first + std::min(exact + static_cast<std::int64_t>(logarithmic), buckets - 1);
}

class RelativeBias {
public:
    static constexpr std::string_view name = "RelativeBias";
    static constexpr std::int64_t buckets = 32;
    static constexpr std::int64_t max_distance = 32;

    RelativeBias(const temporal::MixerOptions& options, Generator&) {
        VGT_CHECK(options.heads > 0, "RelativeBias", "expected a positive number of heads, found {}", options.heads);
        bias_ = nn::zeros_parameter(Shape{buckets, options.heads}, options.dtype);
    }

    static constexpr bool bias_only = true;  // embed and rotate are no-ops
    Tensor embed(const Tensor& h, const PositionContext&) const { return h; }
    std::pair<Tensor, Tensor> rotate(const Tensor& q, const Tensor& k, const PositionContext&) const { return {q, k}; }

    /// bias[h, i, j] = relative_attention_bias[bucket(frame(j) − frame(i)), h], [heads, L, L].
    Tensor attention_bias(const PositionContext& ctx) const {
        detail::check_position_context(ctx, "RelativeBias::attention_bias");
        const std::int64_t frames = ctx.frames;
        std::vector<std::int64_t> bucket(static_cast<std::size_t>(frames * frames));
        for (std::int64_t i = 0; i < frames; ++i)
            for (std::int64_t j = 0; j < frames; ++j)
                bucket[static_cast<std::size_t>(i * frames + j)] =
                    relative_position_bucket(j - i, !ctx.causal, buckets, max_distance);
        const Tensor index = to(Tensor::from_vector(bucket, Shape{frames, frames}), bias_.device());
        const Tensor per_frame = permute(embedding(bias_, index), {2, 0, 1});  // [heads, T, T]
        return detail::expand_frame_bias(per_frame, ctx);
    }

    std::int64_t heads() const { return bias_.size(1); }
    std::int64_t params() const { return nn::count_parameters(*this); }
    void visit_parameters(const nn::ParameterVisitor& visit, const std::string& prefix) {
        visit(nn::join_name(prefix, "relative_attention_bias"), bias_);
    }

private:
    Tensor bias_;
};

static_assert(PositionPolicy<RelativeBias>);

}  // namespace vgt::position
