#pragma once
// Learned: a trained table of absolute positions, one row per frame added to
// the normalised input h (as in BERT, ViT and the temporal embeddings of
// VDM-style video models). The table has Tmax = options.max_frames rows, so
// a video longer than Tmax has no position for its later frames: a
// vgt::Error, not a silent wrap-around.
//
// Parameter: table [Tmax, C], initialised N(0, 0.02²) (the ViT/BERT rule).

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "vgt/core/error.hpp"
#include "vgt/core/random.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/nn/init.hpp"
#include "vgt/nn/parameters.hpp"
#include "vgt/position/frame_positions.hpp"
#include "vgt/position/position_policy.hpp"
#include "vgt/temporal/options.hpp"

namespace vgt::position {

class Learned {
public:
    static constexpr std::string_view name = "Learned";
    static constexpr double init_stddev = 0.02;

    Learned(const temporal::MixerOptions& options, Generator& gen) {
        VGT_CHECK(options.channels > 0 && options.max_frames > 0, "Learned",
                  "expected positive channels and max_frames (Tmax), found channels = {}, max_frames = {}",
                  options.channels, options.max_frames);
        table_ = nn::parameter(
            randn(Shape{options.max_frames, options.channels}, gen, options.dtype, 0.0, init_stddev));
    }

    /// h [N, L, C] + table[frame of each token]; more than Tmax frames is an error.
    Tensor embed(const Tensor& h, const PositionContext& ctx) const {
        detail::check_embed_input(h, ctx, channels(), "Learned::embed");
        VGT_CHECK(ctx.frames <= max_frames(), "Learned::embed",
                  "expected at most Tmax = {} frames (the rows of the learned table), found T = {}", max_frames(),
                  ctx.frames);
        return detail::add_per_frame(h, slice(table_, 0, 0, ctx.frames), ctx);
    }
    std::pair<Tensor, Tensor> rotate(const Tensor& q, const Tensor& k, const PositionContext&) const { return {q, k}; }
    Tensor attention_bias(const PositionContext&) const { return {}; }

    std::int64_t max_frames() const { return table_.size(0); }
    std::int64_t channels() const { return table_.size(1); }
    std::int64_t params() const { return nn::count_parameters(*this); }
    void visit_parameters(const nn::ParameterVisitor& visit, const std::string& prefix) {
        visit(nn::join_name(prefix, "table"), table_);
    }

private:
    Tensor table_;
};

static_assert(PositionPolicy<Learned>);

}  // namespace vgt::position
