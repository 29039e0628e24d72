#pragma once
// The inputs of Gen-1's structure and content conditioning that a
// text-to-video model derives from clips (experiment/text_to_video.hpp):
//
//   clip_structure     clips [B, T, C, H, W] in [0, 1] (C = 1 or 3) → their
//                      luminance-edge structure maps [B, T, 1, H, W], each
//                      clip at its own structure level
//   clip_flow          clips [B, T, C, H, W] in [0, 1] → their optical flow
//                      [B, T, 2, H, W] as FlowWarp takes it (frame t → t − 1)
//   flow_motion        a flow [B, T, 2, H, W] → one motion vector per frame
//                      [B, T, 2]: the mean of the flow weighted by its
//                      squared length, so that the moving pixels decide
//   uniform_flow       motion [B, T, 2] → the flow field [B, T, 2, H, W] that
//                      is that vector at every pixel
//   reference_frames   one frame of each clip → [B, C, H, W]
//   content_mask       int64 [B, K]: 1 where a clip's content tokens count, 0
//                      where they are dropped (cross-attention skips them)
//   draw_integers      B integers uniform over {0 … n − 1} (B Philox uniforms)
//
// None of these has parameters or a gradient: they are data.

#include <cstdint>
#include <vector>

#include "vgt/core/error.hpp"
#include "vgt/core/random.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/diffusion/training_loss.hpp"
#include "vgt/flow/estimate.hpp"
#include "vgt/models/structure_map.hpp"
#include "vgt/ops/elementwise.hpp"
#include "vgt/ops/join.hpp"
#include "vgt/ops/reduce.hpp"
#include "vgt/ops/view.hpp"

namespace vgt::experiment {

/// `count` integers uniform over {0 … n − 1}: takes `count` numbers from gen.
inline std::vector<std::int64_t> draw_integers(std::int64_t count, std::int64_t n, Generator& gen) {
    return diffusion::sample_timesteps(count, n, gen);  // the same draw: ⌊u·n⌋ of Philox uniforms
}

/// The structure maps [B, T, 1, H, W] of clips [B, T, C, H, W] in [0, 1]
/// (C = 3, or 1 for grey clips, whose luma is the clip itself): clip b at
/// structure level levels[b], with σ = level · sigma_per_level pixels. In
/// the clips' dtype, detached from the tape.
inline Tensor clip_structure(const Tensor& clips, const std::vector<std::int64_t>& levels, double sigma_per_level) {
    constexpr const char* op = "clip_structure";
    VGT_CHECK(clips.rank() == 5 && (clips.size(2) == 1 || clips.size(2) == 3), op,
              "expected clips [B, T, 1 or 3, H, W], found shape {}", clips.shape());
    VGT_CHECK(static_cast<std::int64_t>(levels.size()) == clips.size(0), op,
              "expected one structure level per clip ({}), found {}", clips.size(0), levels.size());
    const Tensor rgb = clips.size(2) == 3
                           ? detach(clips)
                           : contiguous(expand(detach(clips), Shape{clips.size(0), clips.size(1), 3, clips.size(3),
                                                                    clips.size(4)}));
    std::vector<Tensor> maps;
    for (std::int64_t b = 0; b < clips.size(0); ++b) {
        const models::StructureOptions options{levels[static_cast<std::size_t>(b)], sigma_per_level};
        maps.push_back(models::structure_map(slice(rgb, 0, b, b + 1), clips.size(3), clips.size(4), options));
    }
    return maps.size() == 1 ? maps[0] : concat(maps, 0);
}

/// The optical flow of clips [B, T, C, H, W] in [0, 1] (C = 1 or 3) by
/// `method`, laid out as FlowWarp and UNetForwardOptions::flow take it:
/// float32 [B, T, 2, H, W] whose frame t ≥ 1 is the flow from frame t to
/// frame t − 1 (flow/flow_field.hpp) and whose frame 0 is zero. All B·(T − 1)
/// pairs go to the estimator as one batch. Detached from the tape.
inline Tensor clip_flow(const Tensor& clips, flow::FlowMethod method) {
    constexpr const char* op = "clip_flow";
    VGT_CHECK(clips.rank() == 5 && (clips.size(2) == 1 || clips.size(2) == 3) && clips.numel() > 0 &&
                  is_floating(clips.dtype()),
              op, "expected float clips [B, T, 1 or 3, H, W], found {}", clips.str());
    const std::int64_t b = clips.size(0), t = clips.size(1), c = clips.size(2), h = clips.size(3), w = clips.size(4);
    const Tensor first = Tensor::zeros(Shape{b, 1, 2, h, w}, DType::Float32, clips.device());
    if (t == 1) return first;
    const Tensor x = to(detach(clips), DType::Float32);
    const auto frames = [&](std::int64_t t0, std::int64_t t1) {
        return reshape(contiguous(slice(x, 1, t0, t1)), Shape{b * (t - 1), c, h, w});
    };
    const Tensor later = flow::estimate_flow(frames(1, t), frames(0, t - 1), method);  // [B·(T − 1), 2, H, W]
    return concat({first, reshape(later, Shape{b, t - 1, 2, h, w})}, 1);
}

/// m_t = Σ_p |f_t(p)|² f_t(p) / (Σ_p |f_t(p)|² + ε), [B, T, 2]: a global
/// translation gives its own vector, an object moving over a still
/// background gives the object's, a still frame gives 0. Detached.
inline Tensor flow_motion(const Tensor& flow) {
    VGT_CHECK(flow.rank() == 5 && flow.size(2) == 2 && is_floating(flow.dtype()), "flow_motion",
              "expected a float flow [B, T, 2, H, W], found {}", flow.str());
    constexpr double kEpsilon = 1e-6;  // px², keeps a still frame at 0 instead of 0/0
    const Tensor f = detach(flow);
    const Tensor weight = sum(mul(f, f), {2}, true);                       // [B, T, 1, H, W]
    const Tensor weighted = sum(mul(f, weight), {3, 4});                   // [B, T, 2]
    const Tensor total = add(sum(weight, {2, 3, 4}, false), kEpsilon);     // [B, T]
    return div(weighted, unsqueeze(total, 2));
}

/// motion [B, T, 2] → [B, T, 2, H, W], the same vector at every pixel.
inline Tensor uniform_flow(const Tensor& motion, std::int64_t height, std::int64_t width) {
    VGT_CHECK(motion.rank() == 3 && motion.size(2) == 2 && height >= 1 && width >= 1, "uniform_flow",
              "expected motion [B, T, 2] and a positive size, found {} and {}×{}", motion.str(), height, width);
    const Shape field{motion.size(0), motion.size(1), 2, height, width};
    return contiguous(expand(reshape(motion, Shape{motion.size(0), motion.size(1), 2, 1, 1}), field));
}

/// Frame frames[b] of clip b of clips [B, T, C, H, W]: [B, C, H, W].
inline Tensor reference_frames(const Tensor& clips, const std::vector<std::int64_t>& frames) {
    constexpr const char* op = "reference_frames";
    VGT_CHECK(clips.rank() == 5, op, "expected clips [B, T, C, H, W], found shape {}", clips.shape());
    VGT_CHECK(static_cast<std::int64_t>(frames.size()) == clips.size(0), op,
              "expected one frame index per clip ({}), found {}", clips.size(0), frames.size());
    std::vector<Tensor> out;
    for (std::int64_t b = 0; b < clips.size(0); ++b) {
        const std::int64_t t = frames[static_cast<std::size_t>(b)];
        VGT_CHECK(t >= 0 && t < clips.size(1), op, "expected frame indices in [0, {}), found {}", clips.size(1), t);
        out.push_back(select(select(clips, 0, b), 0, t));
    }
    return stack(out, 0);
}

/// int64 [B, tokens]: a row of ones where `kept[b]`, of zeros elsewhere.
inline Tensor content_mask(const std::vector<bool>& kept, std::int64_t tokens) {
    std::vector<std::int64_t> values;
    for (const bool k : kept) values.insert(values.end(), static_cast<std::size_t>(tokens), k ? 1 : 0);
    return Tensor::from_vector(values, Shape{static_cast<std::int64_t>(kept.size()), tokens});
}

}  // namespace vgt::experiment
