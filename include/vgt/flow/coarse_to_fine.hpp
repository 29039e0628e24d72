#pragma once
// The coarse-to-fine loop shared by the warping estimators: pre-smooth both
// frames, build their Gaussian pyramids, start from zero flow at the
// coarsest level, and at each level carry the flow down from the level
// above (pyramid.hpp's UpsampleFlow2) and let the estimator refine it.
// Displacements far larger than the linearised data term can see at full
// resolution are a pixel or two at the coarse levels.

#include <cstdint>
#include <vector>

#include "vgt/core/shape.hpp"
#include "vgt/core/tensor.hpp"
#include "vgt/flow/linearization.hpp"
#include "vgt/flow/pyramid.hpp"

namespace vgt::flow::detail {

/// Runs refine(LevelFrames&, Tensor& flow) on each level of the pyramids of
/// planes a and b [N, H, W], coarsest first; returns the flow [N, 2, H, W].
/// with_b_gradients: whether refine reads the second frame's gradients.
template <class T, class Refine>
Tensor coarse_to_fine(const Tensor& a, const Tensor& b, double presmooth_sigma, const PyramidOptions& pyramid,
                      bool with_b_gradients, Refine&& refine) {
    const std::vector<Tensor> pa = plane_pyramid<T>(blur_planes<T>(a, presmooth_sigma), pyramid);
    const std::vector<Tensor> pb = plane_pyramid<T>(blur_planes<T>(b, presmooth_sigma), pyramid);
    const std::int64_t n = a.size(0);
    Tensor flow;
    for (std::size_t l = pa.size(); l-- > 0;) {
        const std::int64_t h = pa[l].size(1), w = pa[l].size(2);
        flow = flow.defined() ? upsample_flow_planes<T>(flow, h, w) : Tensor::zeros(Shape{n, 2, h, w}, a.dtype());
        const LevelFrames frames = level_frames<T>(pa[l], pb[l], with_b_gradients);
        refine(frames, flow);
    }
    return flow;
}

}  // namespace vgt::flow::detail
